"""HTTP plumbing of the tenant API: problem responses, bearer auth, bounded JSON bodies, entity tags.

Everything a request can get wrong is raised as an ``ApiProblem`` and rendered as
``application/problem+json`` (RFC 9457) by the app's exception handler, so that bad input never becomes a
5xx and every error has the same shape: ``{type, title, status, detail, errors?}``.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .auth import Keyring, Principal

PROBLEM_JSON = "application/problem+json"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 100  # a real flow document nests about 12 deep; this only stops stack-exhaustion tricks
_DRAIN_BYTES = (
    64 * 1024 * 1024
)  # read and drop this much of an oversized body, so clients see the 413
BODY_SECONDS = 60.0  # the whole body of a request must arrive within this (10 MiB at ~175 KB/s)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    412: "precondition-failed",
    413: "content-too-large",
    422: "validation-failed",
    500: "internal-error",
    503: "unavailable",
}


class ApiProblem(Exception):
    """An error answer. ``errors`` lists ``{path, message}`` (JSON Pointers into the request body)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers or {}


def problem_response(problem: ApiProblem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:syncer:tenant:problem:{_SLUGS.get(problem.status, 'error')}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    return JSONResponse(body, problem.status, headers=problem.headers, media_type=PROBLEM_JSON)


def authorize(request: Request, keyring: Keyring, scope: str) -> Principal:
    """The caller, if it presented a known key with ``scope``; 401 or 403 otherwise."""
    header = request.headers.get("authorization", "")
    method, _, key = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="tenant"'}
    if method.lower() != "bearer" or not key.strip():
        raise ApiProblem(
            401, "send an API key as `Authorization: Bearer <key>`.", headers=challenge
        )
    principal = keyring.authenticate(key.strip())
    if principal is None:
        # The key itself is never echoed: error bodies end up in CI logs.
        raise ApiProblem(401, "the API key is not known to this tenant.", headers=challenge)
    if not principal.can(scope):
        raise ApiProblem(
            403, f"the API key {principal.name!r} lacks the `{scope}` scope this request needs."
        )
    return principal


async def read_json(request: Request, *, required: bool, limit: int = MAX_BODY_BYTES) -> Any:
    """The request body as JSON, at most ``limit`` bytes; ``None`` for an empty optional body."""
    raw = await _read_bounded(request, limit)
    if not raw.strip():
        if required:
            raise ApiProblem(400, "the request needs a JSON body.")
        return None
    try:
        text = raw.decode("utf-8")
        data = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except UnicodeDecodeError:
        raise ApiProblem(400, "the body is not UTF-8 encoded JSON.") from None
    except json.JSONDecodeError as exc:
        # The decoder's message names a position only, never the content.
        raise ApiProblem(
            400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ApiProblem(400, f"the body is not acceptable JSON: {exc}.") from None
    if _depth(data) > MAX_DEPTH:
        raise ApiProblem(400, f"the body nests deeper than {MAX_DEPTH} levels.")
    try:
        # JSON may escape a lone surrogate (\ud800), which no UTF-8 store or answer can hold.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiProblem(400, "the body contains an unpaired UTF-16 surrogate escape.") from None
    return data


async def _read_bounded(request: Request, limit: int) -> bytes:
    """At most ``limit`` bytes of body, within ``BODY_SECONDS``; a client that goes away meanwhile
    raises Starlette's ``ClientDisconnect`` (the app logs it as what it is, not as a failure)."""
    too_large = ApiProblem(413, f"the body is larger than the {limit} byte limit.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _DRAIN_BYTES:
        raise too_large
    body = bytearray()
    seen = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > _DRAIN_BYTES:
                    break
                if seen <= limit:
                    body += chunk
    except TimeoutError:
        # A body that trickles in (or stops) would hold a worker and a connection for ever.
        raise ApiProblem(
            408, f"the body did not arrive within {BODY_SECONDS:g} seconds; send it again."
        ) from None
    if seen > limit:
        raise too_large
    return bytes(body)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; which one a reader meant is unknowable (and two
    # parsers may disagree), so the body is refused. The message names the key, never a value.
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            shown = key if len(key) <= 80 else key[:80] + "…"
            raise _DuplicateKey(f"the key {json.dumps(shown)} appears twice in one object")
        seen.add(key)
    return found  # unreachable: dict() dropped a pair only because a key repeats


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    # 1e999 would parse as infinity, which no JSON answer can carry back.
    value = float(text)
    if math.isinf(value):
        raise ValueError("a number is too large")
    return value


def _depth(value: Any) -> int:
    """Nesting depth, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
    return deepest


def entity_tags(value: str | None, *, weak: bool) -> tuple[str, ...] | None:
    """The opaque tags of an ``If-Match``/``If-None-Match`` header (``*`` kept); None when absent.

    ``weak`` comparison (If-None-Match) ignores a ``W/`` prefix; strong comparison (If-Match) never
    matches a weak tag. A bare, unquoted revision is accepted too, for hand-written curl calls.
    """
    if value is None:
        return None
    tags: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if part == "*":
            tags.append("*")
            continue
        is_weak = part.startswith("W/")
        if is_weak:
            if not weak:
                continue
            part = part[2:]
        tags.append(part[1:-1] if len(part) >= 2 and part[0] == part[-1] == '"' else part)
    return tuple(tags)


def flag(request: Request, name: str) -> bool:
    """A boolean header (``true``/``false``, any case; absent is false)."""
    value = request.headers.get(name)
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ApiProblem(400, f"header {name} must be `true` or `false`.")
    return lowered == "true"
