"""What a failed tenant request becomes: a ``TenantError`` that names the environment, the flow and the
HTTP status, says what to do, and repeats no concealed value and no API key, in any encoding."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from syncer import errors, model

from .tenant_api import Call, bounded, problem_text


@dataclass(frozen=True)
class Endpoint:
    """The tenant a message is about, and what it must never repeat (``api_key``)."""

    environment: str
    base_url: str
    key_hint: str  # where the key comes from, e.g. ``$SYNCER_PRODUCTION_EU_API_KEY``
    timeout: float
    api_key: str = field(repr=False)


def bad_answer(
    where: Endpoint, call: Call, response: httpx.Response, what: str
) -> errors.TenantError:
    kind = bounded(response.headers.get("content-type", "none"), 100)
    message = (
        f"{call.method} {call.path} answered with {what} (content-type {kind}); check that "
        f"{where.base_url} is a syncer tenant API and not a proxy or a login page"
    )
    return error(where, call, message, response.status_code)


def translate(
    where: Endpoint, call: Call, response: httpx.Response, attempts: int
) -> errors.TenantError:
    status, detail = response.status_code, problem_text(response, secrets(where, call))
    kind: type[errors.TenantError] = errors.TenantError
    if status in (401, 403):
        kind = errors.AuthError
        text = f"the tenant {'did not accept' if status == 401 else 'refused'} the API key; "
        text += f"check the key in {where.key_hint} is this tenant's and has scope {call.scope}"
    elif status == 404:
        kind, text = (
            errors.NotFound,
            "not found; check the " + ("definition id" if call.flow else f"url {where.base_url}"),
        )
    elif status == 412:
        kind = errors.PreconditionFailed
        if "If-None-Match" in call.headers:
            text = "the flow exists already, so it cannot be created"
        else:
            read = call.headers.get("If-Match", "?").strip('"')
            text = f"the flow changed since revision {read} was read"
        text += "; nothing was written by this request"
        if attempts > 1:
            text += (
                ", but an earlier attempt of it may have been applied before its answer was lost"
            )
        text += "; re-read the flow and plan again"
    elif status == 422:
        kind, text = errors.Rejected, "the tenant found the definition invalid; fix the flow"
    elif status == 409:
        kind, text = errors.Rejected, "the tenant refused the write (view-only or conflicting)"
    elif status == 429 or status >= 500:
        problem = "rate limited us" if status == 429 else "failed with a server error"
        text = f"the tenant {problem} {attempts} time(s); try again later, and if it persists "
        text += "check the tenant's status"
    else:
        text = "the tenant refused the request"
    return error(where, call, f"{call.method} {call.path}: {text}{detail}", status, kind)


def unreachable(where: Endpoint, call: Call, exc: Exception, attempts: int) -> errors.TenantError:
    if isinstance(exc, httpx.TimeoutException):
        what = f"did not answer within {where.timeout:g}s"
    elif isinstance(exc, httpx.ConnectError):
        what = "refused the connection or could not be reached"
    else:
        what = "dropped the connection"
    message = (
        f"{call.method} {where.base_url}{call.path}: the tenant {what} ({type(exc).__name__} after "
        f"{attempts} attempt(s)); check that it is running and that `url` in "
        f"environments/{where.environment}.yaml is right"
    )
    return error(where, call, message, None, errors.TenantUnreachable)


def error(
    where: Endpoint,
    call: Call,
    message: str,
    status: int | None = None,
    kind: type[errors.TenantError] = errors.TenantError,
) -> errors.TenantError:
    # A tenant may echo a concealed value (or, from a proxy, the key) back in `detail`, in any
    # encoding; and a detail is the tenant's text, so it is bounded before it reaches a terminal.
    message = model.mask_secrets(message, secrets(where, call))
    return kind(message, environment=where.environment, flow=call.flow, status=status)


def secrets(where: Endpoint, call: Call) -> tuple[str, ...]:
    """What no message about ``call`` may repeat: its concealed values and the API key."""
    return (*call.secrets, where.api_key)
