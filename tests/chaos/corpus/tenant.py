"""The tenant API: hostile tenants answering syncer, and hostile requests to the reference tenant."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from tests.faultserver import FaultServer, Reply, ResetServer, closed_port, problem

from ..world import Outcome, World
from .case import (
    BP,
    BP_ID,
    EU,
    PLANTED,
    TENANT,
    Case,
    plant,
)

# -- hostile tenants (scripted servers standing in for production-eu) --------------------------------


@contextlib.contextmanager
def _server(reply: Callable[[Any], Reply]) -> Iterator[str]:
    with FaultServer() as server:
        server.responder = reply
        yield server.url


def _answering(reply: Reply) -> Callable[[], contextlib.AbstractContextManager[str]]:
    return lambda: _server(lambda _request: reply)


def _echoing_secret() -> contextlib.AbstractContextManager[str]:
    def reply(request: Any) -> Reply:
        if request.method == "GET" and request.path == "/v1/care-flows":
            return Reply(200, {"items": []})
        body = request.body.decode("utf-8", "replace")
        detail = "rejected: " + body + " " + "padding " * 3000
        return Reply(422, {"status": 422, "detail": detail, "errors": [{"path": "/x", "message": body}] * 40},
                     content_type="application/problem+json")  # fmt: skip

    return _server(reply)


def _dots_in_listing() -> contextlib.AbstractContextManager[str]:
    item = {"definition_id": "..", "key": "dots", "title": "Dots", "revision": 1, "annotations": {}}
    return _server(lambda _r: Reply(200, {"items": [item]}))


def _no_revision() -> contextlib.AbstractContextManager[str]:
    summary = {"definition_id": BP_ID, "key": BP, "title": "x", "revision": 7, "annotations": {},
               "content_hash": "0" * 64}  # fmt: skip

    def reply(request: Any) -> Reply:
        if request.path == "/v1/care-flows":
            return Reply(200, {"items": [summary]})
        return Reply(200, {"definition_id": BP_ID, "definition": {}})

    return _server(reply)


@contextlib.contextmanager
def _refusing() -> Iterator[str]:
    with closed_port() as url:
        yield url


@contextlib.contextmanager
def _resetting() -> Iterator[str]:
    with ResetServer() as server:
        yield server.url


@contextlib.contextmanager
def _hanging() -> Iterator[str]:
    with FaultServer() as server:
        server.responder = lambda _r: Reply(200, {"items": []}, delay=5)
        yield server.url


# -- requests straight to the reference tenant ---------------------------------------------------------


def _http(
    method: str,
    path: str,
    *,
    key: str = "syncer-ci",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    env: str = "sandbox",
) -> Callable[[World], Outcome]:
    def send(world: World) -> Outcome:
        tenant = world.tenants[env]
        sent = {"Authorization": f"Bearer {world.keys[env][key]}"} if key else {}
        sent |= {"Content-Type": "application/json", **(headers or {})}
        with httpx.Client(base_url=tenant.url, timeout=30) as client:
            answer = client.request(method, path, headers=sent, content=body)
        kind = answer.headers.get("content-type", "")
        try:
            detail = str(answer.json().get("detail", "")) if "json" in kind else ""
        except ValueError:
            detail = ""
        shown = f"HTTP {answer.status_code} {kind}\n{detail}\n{answer.text}"
        return Outcome(
            answer.status_code, shown, "" if "problem+json" in kind else "not problem+json"
        )

    return send


def _raw(
    env: str, data: bytes, *, wait: float = 0.0, close: bool = False
) -> Callable[[World], Outcome]:
    """Bytes on a socket, exactly as written (``..`` is not collapsed, headers may stay unfinished)."""

    def send(world: World) -> Outcome:
        with socket.create_connection(("127.0.0.1", world.tenants[env].port), timeout=30) as sock:
            sock.sendall(data)
            if close:
                time.sleep(0.2)
                return Outcome(0, "closed mid-body")
            time.sleep(wait)
            chunks = []
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except TimeoutError:
                return Outcome(0, "no answer within 30 s: the tenant kept the connection open")
        text = b"".join(chunks).decode("utf-8", "replace")
        status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else 0
        return Outcome(status, text)

    return send


def _sandbox_flow() -> bytes:
    from tests.e2e.landscape import example_flow

    return json.dumps({"definition": example_flow(BP)}).encode()


def _with_secret_and_error() -> bytes:
    from tests.e2e.landscape import example_flow

    flow = example_flow(BP)
    flow["spec"]["settings"]["constants"][0]["value"] = PLANTED
    flow["metadata"]["title"] = 42
    return json.dumps({"definition": flow}).encode()


def _put(path: str, body: bytes, **headers: str) -> Callable[[World], Outcome]:
    return _http("PUT", path, headers=headers, body=body)


FLOW_URL = f"/v1/care-flows/{BP_ID}"
AUTH_HEAD = "Authorization: Bearer {key}\r\n"


def _raw_put_dots(world: World) -> Outcome:
    key = world.keys["sandbox"]["syncer-ci"]
    body = _sandbox_flow().replace(BP_ID.encode(), b"..")
    head = (
        f"PUT /v1/care-flows/.. HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n"
        f"If-None-Match: *\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return _raw("sandbox", head.encode() + body)(world)


def _disconnect_mid_body(world: World) -> Outcome:
    key = world.keys["sandbox"]["syncer-ci"]
    head = (
        f'PUT {FLOW_URL} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nIf-Match: "1"\r\n'
        "Content-Type: application/json\r\nContent-Length: 90000\r\n\r\n"
    )
    outcome = _raw("sandbox", head.encode() + _sandbox_flow()[:500], close=True)(world)
    time.sleep(0.3)  # the tenant notices the disconnect
    return Outcome(0, outcome.out + "\n" + "\n".join(world.tenant_errors()))


CASES: tuple[Case, ...] = (
    # --- the tenant API: hostile answers ---------------------------------------------------------------
    Case(
        "tenant-login-page",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "not JSON", "not a proxy or a login page"),
        tenant=_answering(Reply(200, body=b"<html>Sign in</html>", content_type="text/html")),
    ),
    Case(
        "tenant-list-not-a-list",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "not a list"),
        tenant=_answering(Reply(200, {"items": {"a": 1}})),
    ),
    Case(
        "tenant-401",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "HTTP 401", "check the key in $SYNCER_PRODUCTION_EU_API_KEY"),
        tenant=_answering(problem(401, "who are you")),
    ),
    Case(
        "tenant-503-always",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "HTTP 503", "try again later"),
        tenant=_answering(problem(503, "down")),
    ),
    Case(
        "tenant-echoes-the-body-at-length",
        TENANT,
        ("apply", "--yes", "--env", EU),
        1,
        (EU, "HTTP 422", "more characters"),
        tenant=_echoing_secret,
    ),
    Case(
        "tenant-lists-an-id-of-dots",
        TENANT,
        ("export", "--env", "sandbox"),
        1,
        ("sandbox", "not a care-flow definition id"),
        tenant=_dots_in_listing,
        hostile="sandbox",
    ),
    Case(
        "tenant-flow-without-revision",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "without a revision"),
        tenant=_no_revision,
    ),
    Case(
        "tenant-refuses-connections",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "refused the connection", "check that it is running"),
        tenant=_refusing,
    ),
    Case(
        "tenant-resets-connections",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "dropped the connection"),
        tenant=_resetting,
    ),
    Case(
        "tenant-never-answers",
        TENANT,
        ("plan", "--env", EU),
        1,
        (EU, "did not answer within 1s"),
        env={"SYNCER_HTTP_TIMEOUT": "1"},
        tenant=_hanging,
    ),
    # --- the tenant API: hostile requests to the reference tenant -----------------------------------------
    Case(
        "api-no-key",
        TENANT,
        code=401,
        says=("Authorization: Bearer",),
        request=_http("GET", "/v1/care-flows", key=""),
    ),
    Case(
        "api-read-key-writes",
        TENANT,
        code=403,
        says=("lacks the `write` scope",),
        request=_http(
            "PUT", FLOW_URL, key="reader", headers={"If-Match": '"1"'}, body=_sandbox_flow()
        ),
    ),
    Case(
        "api-if-match-star",
        TENANT,
        code=412,
        says=("If-Match: *", "Nothing was changed"),
        request=_put(FLOW_URL, _sandbox_flow(), **{"If-Match": "*"}),
    ),
    Case(
        "api-delete-if-match-star",
        TENANT,
        code=412,
        says=("If-Match: *",),
        request=_http("DELETE", FLOW_URL, headers={"If-Match": "*"}),
    ),
    Case(
        "api-duplicate-json-keys",
        TENANT,
        code=400,
        says=("appears twice",),
        request=_put(
            FLOW_URL,
            b'{"definition": {}, "definition": ' + _sandbox_flow()[15:],
            **{"If-Match": '"1"'},
        ),
    ),
    Case("api-path-of-dots", TENANT, code=400, says=("not only dots",), request=_raw_put_dots),
    Case(
        "api-not-json",
        TENANT,
        code=400,
        says=("not valid JSON", "line 1 column"),
        request=_put(FLOW_URL, b"{definition: nope}", **{"If-Match": '"1"'}),
    ),
    Case(
        "api-nan",
        TENANT,
        code=400,
        says=("NaN is not a JSON number",),
        request=_put(FLOW_URL, b'{"definition": {"x": NaN}}', **{"If-Match": '"1"'}),
    ),
    Case(
        "api-too-large",
        TENANT,
        code=413,
        says=("byte limit",),
        request=_put(
            FLOW_URL, b'{"definition": "' + b"x" * (11 * 1024 * 1024) + b'"}', **{"If-Match": '"1"'}
        ),
    ),
    Case(
        "api-too-deep",
        TENANT,
        code=400,
        says=("deeper than 100",),
        request=_put(
            FLOW_URL, b'{"definition": ' + b"[" * 150 + b"]" * 150 + b"}", **{"If-Match": '"1"'}
        ),
    ),
    Case(
        "api-id-mismatch",
        TENANT,
        code=422,
        says=("/definition/metadata/definition_id",),
        request=_put("/v1/care-flows/other-id", _sandbox_flow(), **{"If-None-Match": "*"}),
    ),
    Case(
        "api-invalid-with-a-secret",
        TENANT,
        code=422,
        says=("/definition/metadata/title",),
        request=_put(FLOW_URL, _with_secret_and_error(), **{"If-Match": '"1"'}),
        edit=plant(PLANTED),
    ),
    Case(
        "api-bad-edit-source",
        TENANT,
        code=400,
        says=("X-Edit-Source",),
        request=_put(FLOW_URL, _sandbox_flow(), **{"If-Match": '"1"', "X-Edit-Source": "robot"}),
    ),
    Case(
        "api-update-without-if-match",
        TENANT,
        code=412,
        says=('send If-Match: "1"',),
        request=_put(FLOW_URL, _sandbox_flow()),
    ),
    Case(
        "api-lone-surrogate",
        TENANT,
        code=400,
        says=("surrogate",),
        request=_put(FLOW_URL, b'{"definition": {"x": "\\ud800"}}', **{"If-Match": '"1"'}),
    ),
    Case(
        "api-bad-history-number",
        TENANT,
        code=404,
        says=("no revision abc",),
        request=_http("GET", f"{FLOW_URL}/history/abc"),
    ),
    Case(
        "api-unfinished-headers",
        TENANT,
        code=408,
        says=("did not arrive",),
        request=_raw("sandbox", b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: "),
    ),
    Case(
        "api-disconnect-mid-body",
        TENANT,
        code=0,
        says=("closed mid-body",),
        request=_disconnect_mid_body,
    ),
)
