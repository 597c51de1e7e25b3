"""Pull-request comments, commit statuses and pull requests over the GitHub REST API. The only GitHub
(and httpx) user for GitHub; every failure leaves here as a ``GitHubError`` that says what to do.
``actions.py`` beside it handles the files a GitHub Actions runner gives a step.

- ``upsert_comment`` keeps exactly one report comment per environment on a pull request: it finds the
  comment carrying a hidden marker and edits it, or creates it. A create whose answer is lost (5xx,
  reset) may still have happened, so the comments are listed again before any retry: never a duplicate.
- Reads and edits (idempotent) are retried on 5xx and connection errors, a bounded number of times
  with backoff. A rate limit (403/429 with ``Retry-After`` or ``X-RateLimit-Remaining: 0``) is waited
  out once, when the wait is short; otherwise the error says when to try again.
- The token is sent only to ``api_url`` (pagination links elsewhere are refused) and never appears in
  a message or a ``repr``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from .. import __version__
from ..errors import ConfigError, GitHubError
from .actions import append_step_summary

__all__ = ["DEFAULT_API_URL", "GitHub", "append_step_summary"]

DEFAULT_API_URL = "https://api.github.com"
ISSUES_WRITE = "issues: write"
PULLS_WRITE = "pull_requests: write"
STATUSES_WRITE = "statuses: write"
STATUS_DESCRIPTION_LIMIT = 140  # GitHub refuses a longer commit status description


class _Uncertain(Exception):
    """A create got no clear answer (5xx or a lost connection): it may or may not have happened."""


class GitHub:
    """A small GitHub REST client for one repository (``owner/name``)."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise ConfigError(f"GITHUB_REPOSITORY must be owner/name, not {repository!r}.")
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._sleep = sleep
        self._retries = retries
        self._backoff = backoff
        self._max_wait = max_wait
        self._http = httpx.Client(
            base_url=self.api_url,
            transport=transport,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"syncer/{__version__}",
            },
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> GitHub:
        """Built from ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY`` and (optional) ``GITHUB_API_URL``."""
        env = os.environ if env is None else env
        missing = [name for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY") if not env.get(name)]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. In GitHub "
                "Actions pass `GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` in the step's `env`; "
                "GITHUB_REPOSITORY is set by Actions (owner/name)."
            )
        api_url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
        return cls(env["GITHUB_TOKEN"], env["GITHUB_REPOSITORY"], api_url, **options)

    def __repr__(self) -> str:
        return f"GitHub(repository={self.repository!r}, api_url={self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- comments -----------------------------------------------------------------------------------

    def list_comments(self, pr: int) -> list[dict[str, Any]]:
        """Every issue comment of pull request ``pr``, oldest first (all pages)."""
        path = f"/repos/{self.repository}/issues/{pr}/comments"
        return self._paginate(path, f"pull request #{pr}", ISSUES_WRITE)

    def find_comment(self, pr: int, marker: str) -> dict[str, Any] | None:
        """The first comment on ``pr`` whose body contains ``marker``."""
        found = (c for c in self.list_comments(pr) if marker in str(c.get("body") or ""))
        return next(found, None)

    def upsert_comment(self, pr: int, marker: str, body: str) -> tuple[str, int]:
        """Edit the comment on ``pr`` that carries ``marker``, or create it.

        Returns ``("updated" | "created", comment id)``. ``body`` gets the marker prepended if it does
        not contain it, so that the next run finds the comment again.
        """
        if marker not in body:
            body = f"{marker}\n{body}"
        existing = self.find_comment(pr, marker)
        if existing is not None:
            return "updated", self._edit_comment(int(existing["id"]), body)
        last: Exception | None = None
        for attempt in range(self._retries + 1):
            try:
                created = self._send(
                    "POST",
                    f"/repos/{self.repository}/issues/{pr}/comments",
                    f"pull request #{pr}",
                    ISSUES_WRITE,
                    json={"body": body},
                )
                return "created", int(created["id"])
            except _Uncertain as exc:
                self._sleep(self._delay(attempt))
                found = self.find_comment(pr, marker)  # did the lost create happen after all?
                if found is not None:
                    if found.get("body") != body:
                        self._edit_comment(int(found["id"]), body)
                    return "created", int(found["id"])
                last = exc
        raise GitHubError(
            f"creating the comment on pull request #{pr} failed {self._retries + 1} times ({last}); "
            "no comment was left behind. Try again later."
        )

    def _edit_comment(self, comment_id: int, body: str) -> int:
        path = f"/repos/{self.repository}/issues/comments/{comment_id}"
        self._send("PATCH", path, f"comment {comment_id}", ISSUES_WRITE, json={"body": body})
        return comment_id

    def comment_url(self, pr: int, comment_id: int, server_url: str = "") -> str:
        """The web address of a comment (``GITHUB_SERVER_URL``, else github.com)."""
        server = (server_url or "https://github.com").rstrip("/")
        return f"{server}/{self.repository}/pull/{pr}#issuecomment-{comment_id}"

    # -- commit statuses ----------------------------------------------------------------------------

    def set_status(
        self, sha: str, context: str, state: str, description: str, target_url: str = ""
    ) -> dict[str, Any]:
        """Set the commit status ``context`` of ``sha`` (one per context; the latest wins).

        ``state`` is ``success``, ``failure``, ``error`` or ``pending``; ``description`` is cut to
        GitHub's 140 characters.
        """
        if state not in ("success", "failure", "error", "pending"):
            raise ValueError(f"not a commit status state: {state}")
        if not sha or any(c not in "0123456789abcdefABCDEF" for c in sha):
            raise ConfigError(f"a commit status needs a commit id (hex), not {sha!r}.")
        text = " ".join(description.split())
        if len(text) > STATUS_DESCRIPTION_LIMIT:
            text = text[: STATUS_DESCRIPTION_LIMIT - 1].rstrip() + "…"
        payload = {"state": state, "context": context, "description": text}
        if target_url:
            payload["target_url"] = target_url
        path = f"/repos/{self.repository}/statuses/{sha}"
        for attempt in range(self._retries + 1):
            try:
                return self._send("POST", path, f"commit {sha[:12]}", STATUSES_WRITE, json=payload)
            except _Uncertain as exc:  # setting a status twice is harmless: the latest wins
                if attempt >= self._retries:
                    raise GitHubError(
                        f"setting the commit status {context} failed {attempt + 1} times ({exc}); "
                        "try again later."
                    ) from None
                self._sleep(self._delay(attempt))
        raise AssertionError("unreachable")

    # -- pull requests ------------------------------------------------------------------------------

    def find_pull(self, head: str, base: str | None = None) -> dict[str, Any] | None:
        """The open pull request from ``head`` (``owner:branch``, or a branch of this repository)."""
        if ":" not in head:
            head = f"{self.repository.split('/')[0]}:{head}"
        params = {"state": "open", "head": head, **({"base": base} if base else {})}
        pulls = self._paginate(
            f"/repos/{self.repository}/pulls", "pull requests", PULLS_WRITE, params
        )
        return pulls[0] if pulls else None

    def create_pull(self, title: str, head: str, base: str, body: str) -> dict[str, Any]:
        """Open a pull request; a create whose answer was lost is looked up before it is retried."""
        payload = {"title": title, "head": head, "base": base, "body": body}
        last: Exception | None = None
        for attempt in range(self._retries + 1):
            try:
                return self._send(
                    "POST",
                    f"/repos/{self.repository}/pulls",
                    f"a pull request from {head}",
                    PULLS_WRITE,
                    json=payload,
                )
            except _Uncertain as exc:
                self._sleep(self._delay(attempt))
                found = self.find_pull(head, base)
                if found is not None:
                    return found
                last = exc
        raise GitHubError(
            f"opening a pull request from {head} into {base} failed {self._retries + 1} times "
            f"({last}); none was opened. Try again later."
        )

    def update_pull(
        self, number: int, title: str | None = None, body: str | None = None
    ) -> dict[str, Any]:
        """Change a pull request's title and/or body."""
        payload = {k: v for k, v in (("title", title), ("body", body)) if v is not None}
        path = f"/repos/{self.repository}/pulls/{number}"
        return self._send("PATCH", path, f"pull request #{number}", PULLS_WRITE, json=payload)

    # -- the HTTP boundary --------------------------------------------------------------------------

    def _paginate(
        self, path: str, what: str, permission: str, params: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, str] | None = {"per_page": "100", **(params or {})}
        while url is not None:
            response = self._request("GET", url, what, permission, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(f"GitHub answered a list of {what} with something else.")
            items.extend(page)
            url, query = response.links.get("next", {}).get("url"), None  # the link keeps the query
            if url is not None and not url.startswith(self.api_url + "/"):
                raise GitHubError(f"GitHub's next-page link leaves {self.api_url}; refusing it.")
        return items

    def _send(
        self, method: str, path: str, what: str, permission: str, **kwargs: Any
    ) -> dict[str, Any]:
        response = self._request(method, path, what, permission, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise GitHubError(
                f"GitHub answered {method} for {what} with something other than JSON."
            )
        return data

    def _request(
        self, method: str, url: str, what: str, permission: str, **kwargs: Any
    ) -> httpx.Response:
        """One call, retried where that is safe; a POST that got no clear answer raises _Uncertain."""
        rate_limited_once = False
        attempt = 0
        while True:
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                problem = f"cannot reach GitHub at {self.api_url}: {type(exc).__name__}"
                # A refused or timed-out connect never reached GitHub; anything later may have.
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if method == "POST" and sent:
                    raise _Uncertain(problem) from None  # the request may have arrived
                if attempt >= self._retries:
                    raise GitHubError(f"{problem} (tried {attempt + 1} times).") from None
            else:
                if response.is_success:
                    return response
                wait = self._rate_limit_wait(response)
                if wait is not None and not rate_limited_once and wait <= self._max_wait:
                    rate_limited_once = True
                    self._sleep(wait)
                    continue
                if response.status_code < 500 or wait is not None:
                    raise self._error(response, what, permission, wait)
                if method == "POST":
                    raise _Uncertain(f"GitHub answered HTTP {response.status_code}")
                if attempt >= self._retries:
                    raise GitHubError(
                        f"GitHub answered HTTP {response.status_code} for {what} "
                        f"{attempt + 1} times; GitHub may be having an outage, try again later."
                    )
            self._sleep(self._delay(attempt))
            attempt += 1

    def _delay(self, attempt: int) -> float:
        return float(min(self._backoff * 2**attempt, 30.0))

    @staticmethod
    def _rate_limit_wait(response: httpx.Response) -> float | None:
        """Seconds to wait if ``response`` is a rate limit, else None."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return 60.0
        if response.headers.get("X-RateLimit-Remaining") == "0":
            reset = response.headers.get("X-RateLimit-Reset", "")
            return max(0.0, float(reset) - time.time()) if reset.isdigit() else 60.0
        secondary = "rate limit" in response.text.lower()  # secondary limits may omit the headers
        return 60.0 if response.status_code == 429 or secondary else None

    def _error(
        self, response: httpx.Response, what: str, permission: str, wait: float | None
    ) -> GitHubError:
        status = response.status_code
        detail = _message(response)
        if wait is not None:
            when = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%H:%M:%S UTC")
            return GitHubError(
                f"GitHub's rate limit is exhausted (HTTP {status}); try again after {when} "
                f"(in {wait:.0f} s)."
            )
        if status == 401:
            return GitHubError(
                "GitHub rejected the token (HTTP 401): GITHUB_TOKEN is invalid or expired. "
                "Use the workflow's token or create a new one."
            )
        if status == 403:
            return GitHubError(
                f"GitHub refused access to {what} in {self.repository} (HTTP 403: {detail}). The "
                f"token needs the `{permission}` permission; in a workflow add it under "
                "`permissions:` (`pull-requests: write` for comments, `statuses: write` for "
                "commit statuses)."
            )
        if status == 404:
            return GitHubError(
                f"GitHub found no {what} in {self.repository} (HTTP 404). Check GITHUB_REPOSITORY "
                "and the pull request number, and that the token can see the repository."
            )
        return GitHubError(f"GitHub refused the request for {what} (HTTP {status}: {detail}).")


def _message(response: httpx.Response) -> str:
    """GitHub's own explanation of an error, kept short."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    return (message or response.reason_phrase or "no details")[:300]
