"""The tenant API as the client sees it: the ``Tenant`` interface, one call's description, the
counters, the concurrent flow stream, and how answers are read (Retry-After, problem+json).

Split from ``client.py`` so that the client itself is the retry loop and the error translation.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from syncer import errors, model


class Tenant(Protocol):
    """What syncer needs from a tenant: everything above the client is typed against this protocol,
    so a second implementation (a vendor adapter) plugs in at ``client_for`` without touching the
    planner, apply or export. It is a context manager that closes its connections on exit."""

    environment: str

    def __enter__(self) -> Tenant: ...
    def __exit__(self, *exc_info: object) -> None: ...

    def tenant(self) -> dict[str, Any]: ...
    def put_identifier_systems(self, items: list[dict[str, str]]) -> dict[str, Any]: ...
    def list_flows(self) -> list[dict[str, Any]]: ...
    def get_flow(self, definition_id: str) -> dict[str, Any]: ...
    def get_flows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def iter_flows(self, ids: Sequence[str]) -> FlowStream: ...
    def put_flow(
        self,
        definition_id: str,
        definition: dict[str, Any],
        *,
        annotations: dict[str, str] | None = None,
        if_match: int | None = None,
        create: bool = False,
        edit_source: str = "syncer",
        hotfix: bool = False,
    ) -> dict[str, Any]: ...
    def delete_flow(self, definition_id: str, if_match: int) -> None: ...
    def publish(self, definition_id: str, notes: str | None = None) -> dict[str, Any]: ...
    def versions(self, definition_id: str) -> list[dict[str, Any]]: ...
    def history(self, definition_id: str) -> list[dict[str, Any]]: ...
    def history_revision(self, definition_id: str, revision: int) -> dict[str, Any]: ...
    def healthz(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


@dataclass
class ClientStats:
    """Counters for tests and benchmarks; every attempt on the wire counts, retries included."""

    requests: int = 0
    retries: int = 0
    bytes_sent: int = 0  # request body bytes
    bytes_received: int = 0  # response bytes as downloaded
    not_modified: int = 0  # 304 answers: reads the ETag saved
    by_route: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, path template)
    by_status: Counter[int] = field(default_factory=Counter)  # HTTP status code of every answer


@dataclass(frozen=True)
class Call:
    """One logical API call: everything a retry decision or an error message needs."""

    method: str
    template: str
    flow: str | None = None
    scope: str = "read"
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = True
    secrets: tuple[str, ...] = ()
    revision: int | None = None

    @property
    def id_problem(self) -> str | None:
        """Why this call's definition id cannot be sent (``model.is_safe_id``), or None."""
        if "{id}" not in self.template or model.is_safe_id(self.flow):
            return None
        return (
            f"{self.flow!r} is not a care-flow definition id (ids use {model.ID_RULE} characters), "
            "so nothing was sent. In a flow file, fix metadata.definition_id (`syncer validate` "
            "names the file); when the tenant lists it, that flow must get a valid id there"
        )

    @property
    def path(self) -> str:
        # Quoted so that an id can never walk to another path ("/", "?", "#"); a "." or ".." segment
        # would still be collapsed by httpx, and the id rule refuses those.
        problem = self.id_problem
        if problem:
            raise errors.ConfigError(problem)
        path = self.template.replace("{id}", quote(self.flow or "", safe=""))
        return path.replace("{revision}", str(self.revision))


class FlowStream:
    """Flows fetched over a pool of ``workers`` threads, yielded in the order of ``ids``.

    Requests start when the stream is made, a few times ``workers`` ahead of the consumer (so memory
    stays bounded however many flows there are). The first failure is raised; closing the stream (or
    leaving its ``with`` block) cancels the requests not yet started and waits for the running ones.
    """

    def __init__(
        self, get: Callable[[str], dict[str, Any]], ids: Sequence[str], workers: int
    ) -> None:
        self._get = get
        self._ids = iter(dict.fromkeys(ids))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="syncer-get")
        self._pending: deque[Future[dict[str, Any]]] = deque(
            self._pool.submit(get, i) for i in itertools.islice(self._ids, 4 * workers)
        )

    def __iter__(self) -> FlowStream:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._pending:
            self.close()
            raise StopIteration
        future = self._pending.popleft()
        following = next(self._ids, None)
        if following is not None:
            self._pending.append(self._pool.submit(self._get, following))
        try:
            return future.result()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> FlowStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def retry_after(response: httpx.Response, cap: float) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), cap)


MAX_DETAIL = 500  # characters of a tenant's `detail` repeated in a message
MAX_ERROR = 300  # characters of each entry of its `errors`
MAX_ERRORS = 20  # entries of `errors` listed; the rest are counted
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def bounded(text: str, limit: int) -> str:
    """A tenant's text made safe to repeat: one line (control characters, escape sequences
    included, become spaces) and at most ``limit`` characters, saying how much was left out."""
    flat = _CONTROL.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    return f"{flat[:limit]}… ({len(flat) - limit} more characters)"


def problem_text(response: httpx.Response, secrets: Sequence[str] = ()) -> str:
    """``: detail`` plus one line per validation error, from an application/problem+json body;
    every part masked (``model.mask_secrets``, before anything changes its text) and then bounded
    (``bounded``), so that a tenant's answer can neither leak a secret nor flood a log."""
    try:
        problem = response.json()
    except (ValueError, UnicodeDecodeError):
        reason = bounded(model.mask_secrets(response.reason_phrase, secrets), 80)  # a proxy's page
        return f" ({reason})" if reason else ""
    if not isinstance(problem, dict):
        return ""

    def safe(text: str, limit: int) -> str:
        return bounded(model.mask_secrets(text, secrets), limit)

    text = safe(str(problem.get("detail") or problem.get("title") or ""), MAX_DETAIL)
    lines = [f"; the tenant says: {text}" if text else ""]
    found = problem.get("errors")
    entries: list[Any] = found if isinstance(found, list) else []
    for entry in entries[:MAX_ERRORS]:
        lines.append(f"\n  - {safe(_error_entry(entry), MAX_ERROR)}")
    if len(entries) > MAX_ERRORS:
        lines.append(f"\n  - … and {len(entries) - MAX_ERRORS} more")
    return "".join(lines)


def _error_entry(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    where = entry.get("path") or entry.get("pointer") or entry.get("loc") or "(flow)"
    if isinstance(where, list):
        where = ".".join(str(part) for part in where)
    return f"{where}: {entry.get('message') or entry.get('detail') or entry}"


def concealed_values(definition: dict[str, Any]) -> tuple[str, ...]:
    """The concealed values a request body carries, so that no message can repeat them (in any
    encoding: ``model.mask_secrets``)."""
    concealed = (
        item.get("value")
        for _, item in model.iter_value_items(definition)
        if item.get("concealed") and item.get("value") not in (None, "")
    )
    texts = {value if isinstance(value, str) else json.dumps(value) for value in concealed}
    return tuple(sorted(texts, key=len, reverse=True))


def list_items(body: Any) -> list[dict[str, Any]] | None:
    """A list answer, bare or wrapped as ``{items: [...]}``; None when the shape is wrong."""
    if isinstance(body, dict):
        body = body.get("items")
    return body if isinstance(body, list) else None
