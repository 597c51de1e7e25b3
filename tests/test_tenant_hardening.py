"""The reference tenant under hostile clients (issue 15, item 10), over real sockets on 127.0.0.1.

`If-Match: *` used to be a blind overwrite (update and delete), duplicate JSON keys were taken last-wins,
a connection with unfinished headers stayed open for ever, and a client that went away mid-body was
logged as an internal error with a traceback.
"""

from __future__ import annotations

import json
import logging
import socket
import time

import httpx
import pytest

from syncer.tenant.embedded import RunningTenant
from tests.conftest import ADMIN_KEY, TenantFactory, auth, sample_flow

FLOW = "/v1/care-flows/flow-intake"


def _client(tenant: RunningTenant) -> httpx.Client:
    return httpx.Client(base_url=tenant.url, headers=auth(ADMIN_KEY), timeout=10)


def _create(api: httpx.Client) -> None:
    answer = api.put(FLOW, json={"definition": sample_flow()}, headers={"If-None-Match": "*"})
    assert answer.status_code == 201, answer.text


def test_if_match_star_is_refused_on_update_and_delete(tenant_factory: TenantFactory) -> None:
    tenant = tenant_factory()
    with _client(tenant) as api:
        _create(api)
        changed = sample_flow(title="Blind")
        answer = api.put(FLOW, json={"definition": changed}, headers={"If-Match": "*"})
        assert answer.status_code == 412
        assert "If-Match: *" in answer.json()["detail"] and '"1"' in answer.json()["detail"]
        assert api.delete(FLOW, headers={"If-Match": "*"}).status_code == 412
        assert api.delete(FLOW, headers={"If-Match": '"2", *'}).status_code == 412
        live = api.get(FLOW).json()
        assert live["revision"] == 1 and live["title"] == "Intake"
        ok = api.put(FLOW, json={"definition": changed}, headers={"If-Match": '"1"'})
        assert ok.status_code == 200 and ok.json()["revision"] == 2


@pytest.mark.parametrize(
    "body",
    [
        '{"definition": {}, "definition": %s}',
        '{"definition": %s, "annotations": {"a": "1", "a": "2"}}',
    ],
)
def test_duplicate_json_keys_are_refused(tenant_factory: TenantFactory, body: str) -> None:
    tenant = tenant_factory()
    with _client(tenant) as api:
        content = body % json.dumps(sample_flow())
        headers = {"If-None-Match": "*", "Content-Type": "application/json"}
        answer = api.put(FLOW, content=content, headers=headers)
        assert answer.status_code == 400
        assert "appears twice" in answer.json()["detail"]
    assert tenant.store.list_flows() == []


def test_a_duplicate_key_inside_the_definition_names_no_value(
    tenant_factory: TenantFactory,
) -> None:
    tenant = tenant_factory()
    flow = json.dumps(sample_flow())
    secret = "CANARY-duplicate-7f3e"
    content = flow.replace(
        '"concealed": true', f'"concealed": true, "value": "{secret}", "value": "x"', 1
    )
    assert secret in content
    with _client(tenant) as api:
        answer = api.put(
            FLOW,
            content=json.dumps({"definition": "__"}).replace('"__"', content),
            headers={"If-None-Match": "*", "Content-Type": "application/json"},
        )
    assert answer.status_code == 400 and '"value"' in answer.json()["detail"]
    assert secret not in answer.text


def _connect(tenant: RunningTenant) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", tenant.port), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_unfinished_headers_time_out(tenant_factory: TenantFactory) -> None:
    tenant = tenant_factory(header_seconds=0.5)
    with _connect(tenant) as partial, _connect(tenant) as silent:
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: tenant\r\nX-Slow: ")
        started = time.monotonic()
        answer = _read_all(partial)  # returns once the tenant closes the connection
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert _read_all(silent) == b""  # a connection that never said a word is just closed
        assert time.monotonic() - started < 8
    with _client(tenant) as api:  # the deadline is per request: a slow client on a kept
        assert api.get("/healthz").status_code == 200  # connection is fine between requests
        time.sleep(0.2)
        assert api.get("/healthz").status_code == 200


def test_a_client_that_disconnects_mid_body_is_no_internal_error(
    tenant_factory: TenantFactory, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = tenant_factory()
    caplog.set_level(logging.INFO)
    head = (
        f"PUT {FLOW} HTTP/1.1\r\nHost: tenant\r\nAuthorization: Bearer {ADMIN_KEY}\r\n"
        "If-None-Match: *\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    )
    with _connect(tenant) as sock:
        sock.sendall(head.encode() + b'{"definition": {"apiVersion"')
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "disconnected" not in caplog.text:
        time.sleep(0.05)
    assert "client disconnected before sending its whole body" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text
    assert tenant.store.list_flows() == []
    with _client(tenant) as api:
        assert api.get("/healthz").status_code == 200
