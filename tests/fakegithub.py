"""A fake GitHub REST API for tests: the subset syncer uses, on a real socket, with fault injection.

``FakeGitHub`` is a Starlette app served by uvicorn in a background thread on 127.0.0.1 (port 0, so
tests can run in parallel). It keeps its state in memory and speaks:

- ``GET/POST /repos/{owner}/{repo}/issues/{number}/comments`` (list with ``per_page``/``page`` and a
  ``Link`` header, create) and ``PATCH /repos/{owner}/{repo}/issues/comments/{id}``;
- ``GET/POST /repos/{owner}/{repo}/pulls`` (list filtered by ``state``, ``head`` = ``owner:branch``
  and ``base``; create, 422 when an open pull request from that head into that base exists),
  ``GET/PATCH /repos/{owner}/{repo}/pulls/{number}``;
- ``POST /repos/{owner}/{repo}/statuses/{sha}`` (a commit status: ``state`` one of error, failure,
  pending, success; ``description`` at most 140 characters, else 422 as on GitHub) and
  ``GET /repos/{owner}/{repo}/commits/{ref}/statuses`` (newest first).

Every request must carry ``Authorization: Bearer <token>`` (401 otherwise); another repository, an
unknown pull request or comment is 404. Pull requests and issues share their numbers, as on GitHub.

Usage::

    with FakeGitHub(token="t0k", repository="acme/flows") as gh:
        pr = gh.open_pull("backport/eu", "main")
        client = GitHub("t0k", "acme/flows", api_url=gh.url)
        gh.fail(500, times=2, method="GET")            # the next two GETs answer 500
        gh.fail(502, method="POST", after=True)        # the next POST is done, then answers 502
        gh.rate_limit(retry_after=7)                   # 403 with Retry-After: 7 and remaining 0
        gh.comment_bodies(pr["number"])                # what is on the pull request now
        gh.statuses(sha)                               # context -> the latest commit status
        gh.requests                                    # every (method, path) received, in order

``page_size`` caps ``per_page`` so that pagination is exercised with a handful of comments.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HOST = "127.0.0.1"


@dataclass
class Fault:
    """An injected answer for the next ``times`` matching requests.

    ``method`` and ``path`` (a substring of the URL path) narrow which requests match; ``after`` makes
    the server do the request first and then answer ``status`` (a lost answer to a done create).
    """

    status: int
    times: int = 1
    method: str | None = None
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "injected fault"
    after: bool = False

    def matches(self, request: Request) -> bool:
        return (self.method in (None, request.method)) and (
            self.path is None or self.path in request.url.path
        )


class FakeGitHub:
    """The fake server and its state; use as a context manager (or ``start()``/``stop()``)."""

    def __init__(
        self, token: str = "test-token", repository: str = "acme/care-flows", page_size: int = 100
    ) -> None:
        self.token = token
        self.repository = repository
        self.page_size = page_size
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.commit_statuses: dict[str, list[dict[str, Any]]] = {}  # sha -> statuses, oldest first
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self._next_number = 1
        self._next_comment = 1000
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- arranging state and faults -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def open_pull(
        self, head: str, base: str = "main", title: str = "A change", body: str = ""
    ) -> dict[str, Any]:
        """Add an open pull request from branch ``head`` of this repository; returns it."""
        with self._lock:
            return self._new_pull(title, head, base, body)

    def add_comment(self, pr: int, body: str, user: str = "someone") -> dict[str, Any]:
        """Add a comment to pull request ``pr`` as if ``user`` had written it."""
        with self._lock:
            return self._new_comment(pr, body, user)

    def fail(self, status: int, **options: Any) -> Fault:
        """Inject a fault (see ``Fault`` for the options); returns it."""
        fault = Fault(status, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def rate_limit(self, retry_after: int | None = 1, times: int = 1, status: int = 403) -> Fault:
        """The next ``times`` requests hit the rate limit, as GitHub answers it."""
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return self.fail(
            status,
            times=times,
            headers=headers,
            message="API rate limit exceeded for installation.",
        )

    def comment_bodies(self, pr: int) -> list[str]:
        with self._lock:
            return [c["body"] for c in self.comments.get(pr, [])]

    def statuses(self, sha: str) -> dict[str, dict[str, Any]]:
        """The latest commit status of each context on ``sha``."""
        with self._lock:
            return {s["context"]: s for s in self.commit_statuses.get(sha, [])}

    def count(self, method: str, path_part: str = "") -> int:
        """How many requests with ``method`` whose path contains ``path_part`` were received."""
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and path_part in p)

    # -- serving ------------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app(), lifespan="off", log_config=None, server_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-github", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake GitHub server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def app(self) -> Starlette:
        prefix = "/repos/{owner}/{repo}"
        routes = [
            Route(
                prefix + "/issues/{number:int}/comments", self._comments, methods=["GET", "POST"]
            ),
            Route(prefix + "/issues/comments/{id:int}", self._comment, methods=["PATCH"]),
            Route(prefix + "/pulls", self._pulls, methods=["GET", "POST"]),
            Route(prefix + "/pulls/{number:int}", self._pull, methods=["GET", "PATCH"]),
            Route(prefix + "/statuses/{sha}", self._status, methods=["POST"]),
            Route(prefix + "/commits/{ref}/statuses", self._statuses, methods=["GET"]),
        ]
        return Starlette(routes=routes)

    # -- the API ------------------------------------------------------------------------------------

    async def _comments(self, request: Request) -> Response:
        number = int(request.path_params["number"])
        body = await _json(request) if request.method == "POST" else {}

        def handle() -> Response:
            if number not in self.pulls:
                return _error(404, "Not Found")
            if request.method == "GET":
                return self._page(request, self.comments.get(number, []))
            if not isinstance(body.get("body"), str):
                return _error(422, "Validation Failed")
            return JSONResponse(self._new_comment(number, body["body"], "github-actions[bot]"), 201)

        return self._guarded(request, handle)

    async def _comment(self, request: Request) -> Response:
        comment_id = int(request.path_params["id"])
        body = await _json(request)

        def handle() -> Response:
            for comment in (c for cs in self.comments.values() for c in cs):
                if comment["id"] == comment_id:
                    if not isinstance(body.get("body"), str):
                        return _error(422, "Validation Failed")
                    comment.update(body=body["body"], updated_at=_now())
                    return JSONResponse(comment)
            return _error(404, "Not Found")

        return self._guarded(request, handle)

    async def _pulls(self, request: Request) -> Response:
        body = await _json(request) if request.method == "POST" else {}

        def handle() -> Response:
            if request.method == "GET":
                query = request.query_params
                pulls = [p for p in self.pulls.values() if _selected(p, query)]
                return self._page(request, pulls)
            missing = [k for k in ("title", "head", "base") if not body.get(k)]
            if missing:
                return _error(422, f"Validation Failed: {', '.join(missing)} missing")
            label = self._label(str(body["head"]))
            if any(
                _selected(p, {"state": "open", "head": label, "base": body["base"]})
                for p in self.pulls.values()
            ):
                return _error(422, f"Validation Failed: A pull request already exists for {label}.")
            pull = self._new_pull(
                body["title"], str(body["head"]), body["base"], body.get("body") or ""
            )
            return JSONResponse(pull, 201)

        return self._guarded(request, handle)

    async def _pull(self, request: Request) -> Response:
        number = int(request.path_params["number"])
        body = await _json(request) if request.method == "PATCH" else {}

        def handle() -> Response:
            pull = self.pulls.get(number)
            if pull is None:
                return _error(404, "Not Found")
            pull.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
            return JSONResponse(pull)

        return self._guarded(request, handle)

    async def _status(self, request: Request) -> Response:
        sha = str(request.path_params["sha"])
        body = await _json(request)

        def handle() -> Response:
            if body.get("state") not in ("error", "failure", "pending", "success"):
                return _error(422, "Validation Failed: state")
            if len(str(body.get("description") or "")) > 140:
                return _error(422, "Validation Failed: description is too long (maximum is 140)")
            status = {
                "id": len(self.commit_statuses.get(sha, [])) + 1,
                "state": body["state"],
                "context": str(body.get("context") or "default"),
                "description": body.get("description"),
                "target_url": body.get("target_url"),
                "created_at": _now(),
            }
            self.commit_statuses.setdefault(sha, []).append(status)
            return JSONResponse(status, 201)

        return self._guarded(request, handle)

    async def _statuses(self, request: Request) -> Response:
        ref = str(request.path_params["ref"])

        def handle() -> Response:
            return self._page(request, list(reversed(self.commit_statuses.get(ref, []))))

        return self._guarded(request, handle)

    def _guarded(self, request: Request, handle: Any) -> Response:
        """Record, authenticate, check the repository, apply faults, then handle (under the lock)."""
        with self._lock:
            self.requests.append((request.method, request.url.path))
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _error(401, "Bad credentials")
            owner, repo = request.path_params["owner"], request.path_params["repo"]
            if f"{owner}/{repo}" != self.repository:
                return _error(404, "Not Found")
            fault = next((f for f in self.faults if f.times > 0 and f.matches(request)), None)
            if fault is not None:
                fault.times -= 1
                if fault.after:
                    handle()
                return _error(fault.status, fault.message, fault.headers)
            response: Response = handle()
            return response

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = min(int(request.query_params.get("per_page", "30")), self.page_size)
        page = int(request.query_params.get("page", "1"))
        response = JSONResponse(items[(page - 1) * per_page : page * per_page])
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, target in (("next", page + 1), ("last", last)):
            if target <= last and (rel == "last" or page < last):
                links.append(f'<{request.url.include_query_params(page=target)}>; rel="{rel}"')
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    def _label(self, head: str) -> str:
        return head if ":" in head else f"{self.repository.split('/')[0]}:{head}"

    def _new_pull(self, title: str, head: str, base: str, body: str) -> dict[str, Any]:
        number, self._next_number = self._next_number, self._next_number + 1
        branch = head.split(":", 1)[-1]
        pull = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "head": {"ref": branch, "label": self._label(head)},
            "base": {"ref": base},
            "html_url": f"https://github.com/{self.repository}/pull/{number}",
        }
        self.pulls[number] = pull
        self.comments.setdefault(number, [])
        return pull

    def _new_comment(self, pr: int, body: str, user: str) -> dict[str, Any]:
        comment_id, self._next_comment = self._next_comment, self._next_comment + 1
        comment = {
            "id": comment_id,
            "body": body,
            "user": {"login": user},
            "created_at": _now(),
            "updated_at": _now(),
            "html_url": f"https://github.com/{self.repository}/pull/{pr}#issuecomment-{comment_id}",
        }
        self.comments.setdefault(pr, []).append(comment)
        return comment


def _selected(pull: dict[str, Any], query: Any) -> bool:
    state = query.get("state", "open")
    return (
        (state == "all" or pull["state"] == state)
        and (not query.get("head") or pull["head"]["label"] == query.get("head"))
        and (not query.get("base") or pull["base"]["ref"] == query.get("base"))
    )


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return JSONResponse(body, status, headers=headers)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
