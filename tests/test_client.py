"""The tenant API client against a fault-injecting server: retries, errors, ETags, conditional writes."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer import errors
from syncer.client import Tenant, TenantClient, client_for
from syncer.model import Environment, Role
from tests.conftest import ADMIN_KEY, READER_KEY, TenantFactory
from tests.faultserver import FaultServer, Reply, ResetServer, Seen, closed_port, problem

ENV = "production-eu"
KEY_VAR = "SYNCER_PRODUCTION_EU_API_KEY"
FLOW_ID = "flow-3f2a"
FLOW_PATH = f"/v1/care-flows/{FLOW_ID}"
SECRET = "s3cr3t-EHR-token-9f8e"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    """What the client asked to wait, recorded instead of spent."""
    return []


def make_client(url: str, sleeps: list[float] | None = None, **kw: Any) -> TenantClient:
    kw.setdefault("retries", 3)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5.0)
    kw.setdefault("sleep", sleeps.append if sleeps is not None else lambda _: None)
    return TenantClient(ENV, url, "test-api-key", api_key_env=KEY_VAR, **kw)


def flow(definition_id: str = FLOW_ID, revision: int = 4) -> dict[str, Any]:
    return {
        "definition_id": definition_id,
        "key": "intake",
        "title": "Intake",
        "revision": revision,
        "content_hash": "abc",
        "annotations": {},
        "definition": {"metadata": {"definition_id": definition_id}},
    }


def definition_with_secret() -> dict[str, Any]:
    constants = [
        {"id": "c1", "key": "EHR_BASE_URL", "label": "EHR base URL", "value": "https://ehr"},
        {
            "id": "c2",
            "key": "EHR_API_KEY",
            "label": "EHR API key",
            "concealed": True,
            "value": SECRET,
        },
    ]
    return {"metadata": {"definition_id": FLOW_ID}, "spec": {"settings": {"constants": constants}}}


def assert_names_everything(error: errors.TenantError, status: int, flow_id: str | None) -> None:
    text = str(error)
    assert ENV in text
    assert f"HTTP {status}" in text
    assert error.status == status and error.environment == ENV
    if flow_id:
        assert flow_id in text and error.flow == flow_id


# --- retries ---


def test_503_twice_then_200_succeeds_after_three_requests(
    server: FaultServer, sleeps: list[float]
) -> None:
    tenant = {"name": "prod-eu", "kind": "production", "region": "eu", "identifier_systems": []}
    server.script("GET", "/v1/tenant", Reply(503), Reply(503), Reply(200, tenant))
    with make_client(server.url, sleeps, backoff=0.01) as client:
        assert client.tenant() == tenant
        assert client.stats.requests == 3 and client.stats.retries == 2
    assert server.count("GET", "/v1/tenant") == 3
    # Full jitter: each wait is somewhere in [0, backoff * 2**attempt].
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.01 and 0 <= sleeps[1] <= 0.02


def test_a_retry_is_a_log_event_with_its_environment(server: FaultServer) -> None:
    """A newcomer's walk-through: retry lines were plain log records, the environment only in
    their text, while the README says every event carries it."""
    import io
    import json

    from syncer.report import logs

    out = io.StringIO()
    logs.configure("json", stream=out)
    server.script("GET", "/v1/tenant", Reply(503), Reply(200, {"name": "t", "kind": "production"}))
    with make_client(server.url) as client:
        client.tenant()
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["event"] == "tenant.retry" and line["environment"] == ENV
    assert line["level"] == "warning" and "test-api-key" not in out.getvalue()


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("7", 7.0, 7.0),
        ("3600", 30.0, 30.0),  # capped: a CI job must finish
        ("0", 0.0, 0.0),
        ("http-date", 3.0, 5.0),
    ],
)
def test_429_retry_after_is_honoured(
    server: FaultServer, sleeps: list[float], retry_after: str, low: float, high: float
) -> None:
    if retry_after == "http-date":
        retry_after = email.utils.formatdate(time.time() + 5, usegmt=True)
    limited = Reply(429, {"detail": "slow down"}, headers={"Retry-After": retry_after})
    server.script("GET", "/v1/tenant", limited, Reply(200, {"name": "t"}))
    with make_client(server.url, sleeps) as client:
        assert client.tenant() == {"name": "t"}
    assert len(sleeps) == 1 and low <= sleeps[0] <= high
    assert server.count() == 2


def test_5xx_after_all_retries_is_a_tenant_error(server: FaultServer, sleeps: list[float]) -> None:
    server.default("GET", FLOW_PATH, problem(500, "database is locked"))
    with (
        make_client(server.url, sleeps, retries=2) as client,
        pytest.raises(errors.TenantError) as info,
    ):
        client.get_flow(FLOW_ID)
    assert type(info.value) is errors.TenantError
    assert_names_everything(info.value, 500, FLOW_ID)
    assert "database is locked" in str(info.value) and "3 time(s)" in str(info.value)
    assert server.count() == 3 and len(sleeps) == 2


def test_connection_reset_is_retried_then_unreachable(sleeps: list[float]) -> None:
    with (
        ResetServer() as reset,
        make_client(reset.url, sleeps, retries=2) as client,
        pytest.raises(errors.TenantUnreachable) as info,
    ):
        client.get_flow(FLOW_ID)
    assert reset.connections == 3
    text = str(info.value)
    assert f"{reset.url}{FLOW_PATH}" in text and ENV in text and FLOW_ID in text
    assert "dropped the connection" in text and "after 3 attempt(s)" in text


def test_connection_refused_is_unreachable_naming_the_url(sleeps: list[float]) -> None:
    with (
        closed_port() as url,
        make_client(url, sleeps, retries=2) as client,
        pytest.raises(errors.TenantUnreachable) as info,
    ):
        client.list_flows()
    assert f"{url}/v1/care-flows" in str(info.value) and "refused the connection" in str(info.value)
    assert client.stats.requests == 3


def test_timeout_is_retried_then_unreachable(server: FaultServer, sleeps: list[float]) -> None:
    server.default("GET", "/v1/tenant", Reply(200, {"name": "late"}, delay=0.5))
    with (
        make_client(server.url, sleeps, timeout=0.1, retries=1) as client,
        pytest.raises(errors.TenantUnreachable) as info,
    ):
        client.tenant()
    assert "did not answer within 0.1s" in str(info.value)
    assert server.count() == 2


def test_publish_is_not_retried_once_the_request_may_have_arrived(sleeps: list[float]) -> None:
    with (
        ResetServer() as reset,
        make_client(reset.url, sleeps) as client,
        pytest.raises(errors.TenantUnreachable),
    ):
        client.publish(FLOW_ID, notes="go live")
    assert reset.connections == 1 and sleeps == []


def test_publish_is_not_retried_on_5xx(server: FaultServer, sleeps: list[float]) -> None:
    server.default("POST", f"{FLOW_PATH}/publish", Reply(503))
    with make_client(server.url, sleeps) as client, pytest.raises(errors.TenantError):
        client.publish(FLOW_ID)
    assert server.count() == 1


def test_publish_is_retried_when_the_connection_was_refused(sleeps: list[float]) -> None:
    with (
        closed_port() as url,
        make_client(url, sleeps, retries=2) as client,
        pytest.raises(errors.TenantUnreachable),
    ):
        client.publish(FLOW_ID)
    assert client.stats.requests == 3 and len(sleeps) == 2


def test_publish_sends_notes(server: FaultServer) -> None:
    release = {"version": 2, "release_id": "r2", "published_at": "now", "notes": "go"}
    server.script("POST", f"{FLOW_PATH}/publish", Reply(201, release))
    with make_client(server.url) as client:
        assert client.publish(FLOW_ID, notes="go") == release
    assert server.seen()[0].json() == {"notes": "go"}


def test_a_retried_put_that_meets_412_surfaces_precondition_failed(
    server: FaultServer, sleeps: list[float]
) -> None:
    # The first attempt was applied but its answer lost (a proxy's 502); the retry finds the
    # revision moved. The caller must re-read, never believe the write failed or force it.
    server.script("PUT", FLOW_PATH, Reply(502), problem(412, "revision 4 is not current"))
    with (
        make_client(server.url, sleeps) as client,
        pytest.raises(errors.PreconditionFailed) as info,
    ):
        client.put_flow(FLOW_ID, {"metadata": {}}, if_match=4)
    assert "earlier attempt" in str(info.value) and "re-read the flow" in str(info.value)
    assert [r.header("if-match") for r in server.seen()] == ['"4"', '"4"']


# --- errors translated at the boundary ---


def test_garbage_instead_of_json(server: FaultServer) -> None:
    server.default(
        "GET", FLOW_PATH, Reply(200, body=b"<html>login</html>{", content_type="application/json")
    )
    with make_client(server.url) as client, pytest.raises(errors.TenantError) as info:
        client.get_flow(FLOW_ID)
    assert type(info.value) is errors.TenantError
    assert "answered with something that is not JSON" in str(info.value)
    assert_names_everything(info.value, 200, FLOW_ID)
    assert server.count() == 1


def test_json_of_the_wrong_shape(server: FaultServer) -> None:
    server.default("GET", "/v1/care-flows", Reply(200, {"flows": "nope"}))
    with make_client(server.url) as client, pytest.raises(errors.TenantError, match="not a list"):
        client.list_flows()


VALIDATION_ERRORS = [
    {"path": "spec.tracks[main].steps[s1].title", "message": "must not be empty"},
    {"path": "spec.transitions[t2].destination", "message": "step s9 does not exist"},
]


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, errors.AuthError, ["did not accept the API key", f"${KEY_VAR}", "scope write"]),
        (403, errors.AuthError, ["refused the API key", f"${KEY_VAR}", "scope write"]),
        (404, errors.NotFound, ["not found", "definition id"]),
        (409, errors.Rejected, ["refused the write", "flow is view-only"]),
        (412, errors.PreconditionFailed, ["changed since revision 4 was read", "re-read the flow"]),
        (
            422,
            errors.Rejected,
            ["invalid", *(f"{e['path']}: {e['message']}" for e in VALIDATION_ERRORS)],
        ),
        (400, errors.TenantError, ["refused the request"]),
    ],
)
def test_4xx_is_translated_and_never_retried(
    server: FaultServer,
    sleeps: list[float],
    status: int,
    kind: type[Exception],
    expected: list[str],
) -> None:
    detail = "flow is view-only" if status == 409 else "nope"
    server.default(
        "PUT", FLOW_PATH, problem(status, detail, VALIDATION_ERRORS if status == 422 else None)
    )
    with make_client(server.url, sleeps) as client, pytest.raises(errors.TenantError) as info:
        client.put_flow(FLOW_ID, {"metadata": {}}, if_match=4)
    assert type(info.value) is kind
    assert_names_everything(info.value, status, FLOW_ID)
    for part in expected:
        assert part in str(info.value)
    assert server.count() == 1 and sleeps == [] and client.stats.retries == 0


def test_auth_error_names_the_scope_of_the_operation(server: FaultServer) -> None:
    server.default("PUT", "/v1/tenant/identifier-systems", problem(403, "missing scope admin"))
    server.default("GET", "/v1/tenant", problem(401, "unknown key"))
    with make_client(server.url) as client:
        with pytest.raises(errors.AuthError, match="scope admin"):
            client.put_identifier_systems([{"name": "MRN", "system": "urn:mrn"}])
        with pytest.raises(errors.AuthError, match="scope read") as info:
            client.tenant()
    assert info.value.flow is None and "flow " not in str(info.value)
    assert "test-api-key" not in str(info.value)


def test_a_secret_in_the_request_body_never_reaches_a_message_or_a_log(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    echo = [
        {"path": "spec.settings.constants[EHR_API_KEY].value", "message": f"'{SECRET}' too short"}
    ]
    server.script("PUT", FLOW_PATH, Reply(503), problem(422, f"bad value {SECRET}", echo))
    caplog.set_level(logging.DEBUG)
    with make_client(server.url) as client, pytest.raises(errors.Rejected) as info:
        client.put_flow(FLOW_ID, definition_with_secret(), if_match=4)
    assert SECRET in server.seen()[0].body.decode()  # it was sent, as it must be
    assert SECRET not in str(info.value) and "***" in str(info.value)
    assert SECRET not in caplog.text


def test_a_secret_never_reaches_an_unreachable_message(sleeps: list[float]) -> None:
    with (
        ResetServer() as reset,
        make_client(reset.url, sleeps, retries=1) as client,
        pytest.raises(errors.TenantUnreachable) as info,
    ):
        client.put_flow(FLOW_ID, definition_with_secret(), create=True)
    assert SECRET not in str(info.value)


# --- ETags and conditional writes ---


def serve_list(server: FaultServer, items: list[dict[str, Any]], etag: str = '"list-1"') -> None:
    def responder(request: Seen) -> Reply:
        if request.header("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, {"items": items}, headers={"ETag": etag})

    server.default("GET", "/v1/care-flows", responder)


def test_second_list_sends_if_none_match_and_304_returns_remembered_items(
    server: FaultServer,
) -> None:
    items = [{"definition_id": FLOW_ID, "key": "intake", "revision": 4}]
    serve_list(server, items)
    with make_client(server.url) as client:
        assert client.list_flows() == items
        assert client.list_flows() == items
        received = client.stats.bytes_received
    first, second = server.seen()
    assert first.header("if-none-match") is None
    assert second.header("if-none-match") == '"list-1"'
    assert received > 0


def test_list_cache_file_gives_a_new_process_a_304(server: FaultServer, tmp_path: Path) -> None:
    items = [{"definition_id": FLOW_ID, "key": "intake", "revision": 4}]
    serve_list(server, items)
    cache = tmp_path / "cache" / "list.json"
    with make_client(server.url, cache_path=cache) as client:
        client.list_flows()
    assert json.loads(cache.read_text())["etag"] == '"list-1"'
    with make_client(server.url, cache_path=cache) as fresh:
        assert fresh.list_flows() == items
    assert server.seen()[-1].header("if-none-match") == '"list-1"'
    # A cache written for another tenant is ignored, not trusted.
    with make_client(server.url.replace("127.0.0.1", "localhost"), cache_path=cache) as other:
        other.list_flows()
    assert server.seen()[-1].header("if-none-match") is None


def test_put_flow_sends_conditional_headers(server: FaultServer) -> None:
    server.default(
        "PUT", FLOW_PATH, lambda r: Reply(200, flow(revision=5), headers={"ETag": '"5"'})
    )
    with make_client(server.url) as client:
        created = client.put_flow(FLOW_ID, {"metadata": {}}, create=True, annotations={"a": "b"})
        client.put_flow(FLOW_ID, {"metadata": {}}, if_match=7, edit_source="studio", hotfix=True)
        with pytest.raises(ValueError):
            client.put_flow(FLOW_ID, {}, create=True, if_match=3)
        with pytest.raises(ValueError):
            client.put_flow(FLOW_ID, {})
    assert created["revision"] == 5
    create, update = server.seen()
    assert create.header("if-none-match") == "*" and create.header("if-match") is None
    assert create.header("x-edit-source") == "syncer" and create.header("x-hotfix") is None
    assert create.json() == {"definition": {"metadata": {}}, "annotations": {"a": "b"}}
    assert update.header("if-match") == '"7"' and update.header("if-none-match") is None
    assert update.header("x-edit-source") == "studio" and update.header("x-hotfix") == "true"
    assert update.json() == {
        "definition": {"metadata": {}}
    }  # no annotations: the tenant keeps them
    assert update.header("authorization") == "Bearer test-api-key"
    assert (update.header("user-agent") or "").startswith("syncer/")


def test_get_flow_takes_the_revision_from_the_etag_when_the_body_lacks_it(
    server: FaultServer,
) -> None:
    body = flow()
    del body["revision"]
    server.default("GET", FLOW_PATH, Reply(200, body, headers={"ETag": '"9"'}))
    with make_client(server.url) as client:
        assert client.get_flow(FLOW_ID)["revision"] == 9


# --- concurrency, counters, paths ---


def test_get_flows_fetches_many_concurrently_over_one_pool(server: FaultServer) -> None:
    def responder(request: Seen) -> Reply:
        return Reply(200, flow(request.path.rsplit("/", 1)[1]), delay=0.02)

    server.responder = responder
    ids = [f"flow-{n:03d}" for n in range(40)]
    with make_client(server.url, max_workers=8) as client:
        flows = client.get_flows([*ids, ids[0]])  # a duplicate is fetched once
        stats = client.stats
    assert list(flows) == ids
    assert all(flows[i]["definition_id"] == i and flows[i]["revision"] == 4 for i in ids)
    assert server.count() == 40 and stats.requests == 40
    assert stats.by_route[("GET", "/v1/care-flows/{id}")] == 40
    assert 1 < server.max_in_flight <= 8


def test_get_flows_raises_the_first_failure(server: FaultServer) -> None:
    server.responder = lambda r: Reply(200, flow(r.path.rsplit("/", 1)[1]))
    server.default("GET", "/v1/care-flows/gone", problem(404, "no such flow"))
    with make_client(server.url) as client, pytest.raises(errors.NotFound, match="gone"):
        client.get_flows(["a", "gone", "b"])


def test_stats_count_routes_and_bytes(server: FaultServer) -> None:
    server.default("GET", f"{FLOW_PATH}/history", Reply(200, [{"revision": 2}, {"revision": 1}]))
    server.default("GET", f"{FLOW_PATH}/history/2", Reply(200, {"revision": 2, "definition": {}}))
    server.default("GET", f"{FLOW_PATH}/versions", Reply(200, {"items": [{"version": 1}]}))
    server.default("PUT", "/v1/tenant/identifier-systems", Reply(200, {"identifier_systems": []}))
    with make_client(server.url) as client:
        assert client.history(FLOW_ID) == [{"revision": 2}, {"revision": 1}]
        assert client.history_revision(FLOW_ID, 2)["revision"] == 2
        assert client.versions(FLOW_ID) == [{"version": 1}]
        client.put_identifier_systems([{"name": "MRN", "system": "urn:mrn"}])
        stats = client.stats
    assert stats.by_route == {
        ("GET", "/v1/care-flows/{id}/history"): 1,
        ("GET", "/v1/care-flows/{id}/history/{revision}"): 1,
        ("GET", "/v1/care-flows/{id}/versions"): 1,
        ("PUT", "/v1/tenant/identifier-systems"): 1,
    }
    assert stats.bytes_sent == sum(len(r.body) for r in server.seen()) > 0
    assert stats.bytes_received > 0


def test_ids_are_quoted_into_one_path_segment(server: FaultServer) -> None:
    server.responder = lambda r: problem(404, "no")
    with make_client(server.url) as client, pytest.raises(errors.NotFound):
        client.get_flow("..flow:1")
    assert server.seen()[0].raw_path == "/v1/care-flows/..flow%3A1"


@pytest.mark.parametrize("bad", ["..", ".", "", "../tenant?x=1", "a/b", "x" * 257])
def test_an_id_the_id_rule_refuses_is_a_clear_error_and_never_sent(
    server: FaultServer, bad: str
) -> None:
    """Issue 15, item 1: `..` used to end apply in a ValueError traceback (exit 4)."""
    server.responder = lambda r: problem(404, "no")
    with make_client(server.url) as client:
        for call in (
            lambda: client.get_flow(bad),
            lambda: client.put_flow(bad, {}, create=True),
            lambda: client.history(bad),
        ):
            with pytest.raises(errors.ConfigError) as caught:
                call()
            assert "is not a care-flow definition id" in str(caught.value)
            assert "not only dots" in str(caught.value) and ENV in str(caught.value)
    assert server.seen() == []


# --- construction ---


def environment(url: str = "http://127.0.0.1:1") -> Environment:
    return Environment(ENV, Role.TARGET, "eu", url, KEY_VAR, None)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_client_for_without_the_key_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(KEY_VAR, raising=False)
    else:
        monkeypatch.setenv(KEY_VAR, value)
    with pytest.raises(errors.ConfigError) as info:
        client_for(environment())
    assert KEY_VAR in str(info.value) and ENV in str(info.value)


def test_client_for_reads_the_key_and_speaks_the_protocol(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "from-the-environment")
    server.default("GET", "/healthz", Reply(200, {"status": "ok"}))
    server.default("GET", "/v1/tenant", problem(401, "unknown key"))
    tenant: Tenant = client_for(environment(server.url), retries=0)
    with pytest.raises(errors.AuthError, match=f"\\${KEY_VAR}"):
        tenant.tenant()
    assert tenant.healthz() == {"status": "ok"}
    tenant.close()
    assert server.seen()[0].header("authorization") == "Bearer from-the-environment"


def test_a_url_that_is_not_http_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError, match="not an http"):
        TenantClient(ENV, "ftp://tenant", "k")


# --- the contract: the client against the real reference tenant ---


def test_round_trip_against_the_reference_tenant(
    tenant_factory: TenantFactory, make_flow: Callable[..., dict[str, Any]]
) -> None:
    tenant = tenant_factory("production-eu", "production", region="eu")
    document = make_flow()
    flow_id = document["metadata"]["definition_id"]
    for constant in document["spec"]["settings"]["constants"]:
        if constant.get("concealed"):
            constant["value"] = SECRET
    with TenantClient(ENV, tenant.url, ADMIN_KEY, backoff=0.01) as client:
        assert client.healthz() and client.tenant()["kind"] == "production"
        assert client.list_flows() == []
        created = client.put_flow(flow_id, document, create=True, annotations={"syncer.io/x": "1"})
        revision = created["revision"]
        live = client.get_flow(flow_id)
        assert live["revision"] == revision and live["annotations"] == {"syncer.io/x": "1"}
        assert SECRET not in json.dumps(live)
        assert client.list_flows() == client.list_flows() and client.stats.not_modified == 1
        with pytest.raises(errors.PreconditionFailed, match="exists already"):
            client.put_flow(flow_id, document, create=True)
        document["metadata"]["title"] = "Intake v2"
        updated = client.put_flow(flow_id, document, if_match=revision)
        assert updated["revision"] == revision + 1 and updated["annotations"] == {
            "syncer.io/x": "1"
        }
        with pytest.raises(errors.PreconditionFailed, match=f"since revision {revision} was read"):
            client.put_flow(flow_id, document, if_match=revision)
        with pytest.raises(errors.Rejected, match="HTTP 409"):
            client.put_flow(flow_id, document, if_match=revision + 1, edit_source="studio")
        client.put_flow(flow_id, document, if_match=revision + 1, edit_source="studio", hotfix=True)
        history = client.history(flow_id)
        assert [h["revision"] for h in history] == [revision + 2, revision + 1, revision]
        assert history[0]["hotfix"] is True
        assert client.history_revision(flow_id, revision)["revision"] == revision
        release = client.publish(flow_id, notes="go live")
        assert client.versions(flow_id)[0]["version"] == release["version"]
        broken = {**document, "spec": {"tracks": "not a list"}}
        with pytest.raises(errors.Rejected, match="HTTP 422") as info:
            client.put_flow(flow_id, broken, if_match=revision + 2)
        assert "\n  - /definition" in str(info.value) and SECRET not in str(info.value)
        with pytest.raises(errors.NotFound, match="flow-missing"):
            client.get_flow("flow-missing")
    with TenantClient(ENV, tenant.url, READER_KEY, api_key_env=KEY_VAR) as reader:
        with pytest.raises(errors.AuthError, match=rf"HTTP 403.*\${KEY_VAR}.*scope write"):
            reader.put_flow(flow_id, document, if_match=revision + 2)
        assert reader.get_flows([flow_id])[flow_id]["revision"] == revision + 2
    with (
        TenantClient(ENV, tenant.url, "not-a-key") as stranger,
        pytest.raises(errors.AuthError, match="HTTP 401"),
    ):
        stranger.list_flows()
