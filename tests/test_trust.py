"""Trust boundaries in the small: where a key may go, the trusted side of a review, window holds."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.client import TenantClient
from syncer.errors import ConfigError, TenantError
from syncer.model import Environment, HoldKind, Role, Window, plain_http_to_remote
from syncer.plan.trusted import trusted_environment
from syncer.reconcile.guards import window_hold


@contextmanager
def _server(status: int, location: str = "") -> Iterator[tuple[str, list[str]]]:
    """A server answering every GET with ``status`` (and ``Location``), recording Authorization."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            body = json.dumps({"items": []}).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_never_takes_the_key_along() -> None:
    with _server(200) as (elsewhere, collected):
        redirect = _server(307, elsewhere + "/v1/care-flows")
        with (
            redirect as (tenant, _),
            TenantClient("eu", tenant, "key", retries=0) as client,
            pytest.raises(TenantError),
        ):
            client.list_flows()
        assert collected == []


def test_the_client_refuses_plain_http_off_this_machine() -> None:
    with pytest.raises(ConfigError, match="never sent in clear text"):
        TenantClient("production-eu", "http://tenant.example.org", "the-key")
    TenantClient("production-eu", "http://localhost:8402", "the-key").close()
    TenantClient("production-eu", "https://tenant.example.org", "the-key").close()


@given(st.ip_addresses(v=4))
def test_only_loopback_may_be_plain_http(address: ipaddress.IPv4Address) -> None:
    url = f"http://{address}:8402/v1"
    assert plain_http_to_remote(url) is not address.is_loopback
    assert not plain_http_to_remote(f"https://{address}:8402/v1")


def _env(**changes: object) -> Environment:
    base = Environment(
        name="production-eu",
        role=Role.TARGET,
        region="eu",
        url="http://127.0.0.1:8402",
        api_key_env="SYNCER_PRODUCTION_EU_API_KEY",
        flows=None,
        constants={"EHR_BASE_URL": "https://ehr.eu"},
    )
    return Environment(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_the_trusted_side_decides_where_the_key_goes_and_the_rest_is_the_change() -> None:
    base = _env()
    head = _env(
        url="https://user:secret@evil.example.org",
        api_key_env="OTHER_KEY",
        constants={"EHR_BASE_URL": "https://ehr.new"},
        signed_commits=True,
        allowed_signers_env="SIGNERS",
    )
    trusted, changes = trusted_environment(base, head)
    assert (trusted.url, trusted.api_key_env) == (base.url, base.api_key_env)
    assert trusted.constants == {"EHR_BASE_URL": "https://ehr.new"}  # the change's effect shows
    by_field = {c.field: c for c in changes}
    assert set(by_field) == {"url", "api_key_env", "verify"}
    assert by_field["url"].head == "https://***@evil.example.org"  # credentials never shown
    assert "secret" not in json.dumps([c.to_json() for c in changes])
    assert trusted_environment(base, _env())[1] == []


def test_a_window_hold_names_the_window_and_when_it_opens() -> None:
    deny = Window("deny", "0 7 * * 1-5", 11 * 3600, "Europe/Brussels")
    env = _env(windows=(deny,), path="environments/production-eu.yaml")
    wednesday_noon = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    hold = window_hold(env, wednesday_noon, 3)
    assert hold is not None and hold.kind is HoldKind.WINDOW
    assert hold.window == "the deny window `0 7 * * 1-5` for 11h (Europe/Brussels)"
    assert hold.next_open == "2026-03-04T17:00:00Z" and hold.pending == 3
    assert "3 pending writes deferred" in hold.message
    assert window_hold(env, datetime(2026, 3, 4, 18, 0, tzinfo=UTC), 3) is None
    allow = Window("allow", "0 22 * * *", 3600, "UTC")
    closed = window_hold(_env(windows=(allow,)), wednesday_noon, 0)
    assert closed is not None and "none open now" in closed.window
    assert closed.next_open == "2026-03-04T22:00:00Z" and "nothing deferred" in closed.message
