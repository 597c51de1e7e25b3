"""A concealed value goes in and never comes out: not in any answer, header, history entry, version,
log line, or any SQLite column other than ``flow_secrets.secret``."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from syncer.tenant.app import create_app
from syncer.tenant.auth import Keyring
from syncer.tenant.embedded import RunningTenant
from syncer.tenant.storage import Store
from tests.conftest import ADMIN_KEY, READER_KEY, TEST_KEYS, TenantFactory, auth

FlowBuilder = Callable[..., dict[str, Any]]
CANARY = "CANARY-tenant-5f1c"
CANARY_EXT = "CANARY-ext-9d2a"
CANARIES = (CANARY, CANARY_EXT)
URL = "/v1/care-flows/flow-intake"


class Recorder:
    """Every response seen by the clients it made, read in full."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def client(self, tenant: RunningTenant, key: str = ADMIN_KEY) -> httpx.Client:
        def keep(response: httpx.Response) -> None:
            response.read()
            self.responses.append(response)

        return httpx.Client(
            base_url=tenant.url, headers=auth(key), timeout=30, event_hooks={"response": [keep]}
        )

    def leaks(self) -> list[str]:
        found = []
        for response in self.responses:
            text = response.content.decode("utf-8", "replace") + repr(
                response.headers.multi_items()
            )
            if any(canary in text for canary in CANARIES):
                found.append(
                    f"{response.request.method} {response.request.url} {response.status_code}"
                )
        return found


def with_canaries(flow: dict[str, Any]) -> dict[str, Any]:
    settings_ = flow["spec"]["settings"]
    settings_["constants"][1]["value"] = CANARY
    settings_["extensions"]["elation"]["client_secret"]["value"] = CANARY_EXT
    return flow


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _exercise_sandbox(http: httpx.Client, reader: httpx.Client, make_flow: FlowBuilder) -> None:
    """Every route, success and failure, with the canaries in every write."""
    flow = with_canaries(make_flow())
    assert (
        http.put(URL, json={"definition": flow}, headers={"If-None-Match": "*"}).status_code == 201
    )
    etag = http.get("/v1/care-flows").headers["etag"]
    for path in ("", "/history", "/history/1", "/versions"):
        http.get(URL + path)
    http.get("/v1/care-flows", headers={"If-None-Match": etag})
    http.post(URL + "/publish", json={"notes": "first"})
    http.get(URL + "/versions/1")
    assert (
        http.put(URL, json={"definition": make_flow()}, headers={"If-Match": '"1"'}).status_code
        == 200
    )
    assert http.put(URL, json={"definition": flow}, headers={"If-Match": '"2"'}).status_code == 200
    http.put(URL, json={"definition": flow}, headers={"If-Match": '"1"'})  # 412
    http.put(URL, json={"definition": flow}, headers={"If-None-Match": "*"})  # 412, exists
    http.put(
        "/v1/care-flows/other", json={"definition": flow}, headers={"If-None-Match": "*"}
    )  # 422
    reader.put(URL, json={"definition": flow}, headers={"If-Match": '"3"'})  # 403
    for bad in _invalid_documents(flow):
        assert (
            http.put(URL, json={"definition": bad}, headers={"If-Match": '"3"'}).status_code == 422
        )
    truncated = json.dumps({"definition": flow})[:-40].encode()
    http.put(
        URL, content=truncated, headers={"If-Match": '"3"', "Content-Type": "application/json"}
    )
    huge = copy.deepcopy(flow)
    huge["metadata"]["description"] = "x" * (10 * 1024 * 1024)
    assert http.put(URL, json={"definition": huge}, headers={"If-Match": '"3"'}).status_code == 413
    http.get(URL + "/history/3")


def _invalid_documents(flow: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Documents whose errors sit right at or next to the concealed items."""
    bad = copy.deepcopy(flow)
    bad["spec"]["settings"]["constants"][1]["key"] = "not upper"
    bad["spec"]["settings"]["constants"][1]["extra"] = CANARY
    yield bad
    bad = copy.deepcopy(flow)
    bad["spec"]["settings"]["constants"][1]["concealed"] = "yes"
    del bad["spec"]["settings"]["constants"][1]["key"]
    yield bad
    bad = copy.deepcopy(flow)
    bad["spec"]["settings"]["constants"] = {"misplaced": {"concealed": True, "value": CANARY}}
    yield bad
    bad = copy.deepcopy(flow)
    bad["spec"]["settings"]["extensions"]["elation"]["client_secret"]["id"] = ""
    bad["spec"]["settings"]["extensions"]["elation"]["client_secret"]["value"] = [CANARY_EXT]
    yield bad


def test_canary_never_leaks(
    tenant_factory: TenantFactory,
    make_flow: FlowBuilder,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _capture_every_log(caplog, monkeypatch)
    sandbox = tenant_factory("sandbox", "sandbox")
    production = tenant_factory("production-eu", "production")
    with recorder.client(sandbox) as http, recorder.client(sandbox, READER_KEY) as reader:
        _exercise_sandbox(http, reader, make_flow)
    with recorder.client(production) as http:
        flow = with_canaries(make_flow())
        headers = {"If-None-Match": "*", "X-Edit-Source": "syncer"}
        assert http.put(URL, json={"definition": flow}, headers=headers).status_code == 201
        studio = {"If-Match": '"1"', "X-Edit-Source": "studio"}
        assert http.put(URL, json={"definition": flow}, headers=studio).status_code == 409
        hotfix = {**studio, "X-Hotfix": "true"}
        assert http.put(URL, json={"definition": flow}, headers=hotfix).status_code == 200
        http.get(URL + "/history/2")
    statuses = {r.status_code for r in recorder.responses}
    assert {200, 201, 304, 400, 403, 409, 412, 413, 422} <= statuses
    assert recorder.leaks() == []
    _assert_logs_clean(caplog)
    for tenant in (sandbox, production):
        _assert_database_clean(tenant.db_path)


def _capture_every_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Route uvicorn's and the app's records to caplog at DEBUG, whatever another test in this process
    (a uvicorn Config with access_log=False, say) did to those loggers before."""
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "syncer.tenant"):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "disabled", False)


def _assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    lines = [caplog.text]
    for record in caplog.records:
        lines += [record.getMessage(), repr(record.args), record.exc_text or ""]
    joined = "\n".join(lines)
    assert "PUT /v1/care-flows/flow-intake" in joined  # the access log was captured
    assert "created at revision 1" in joined  # and the app's own log
    assert not any(canary in joined for canary in CANARIES)


def _assert_database_clean(path: Path) -> None:
    """Scan every column of every table except ``flow_secrets.secret``, where the canary must be."""
    with sqlite3.connect(path) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        assert {"flows", "flow_secrets", "history", "versions", "tenant"} <= set(tables)
        for table in tables:
            for column in [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]:
                values = [row[0] for row in conn.execute(f"SELECT {column} FROM {table}")]
                if (table, column) == ("flow_secrets", "secret"):
                    assert any(CANARY in str(value) for value in values)
                    continue
                for value in values:
                    text = (
                        value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    )
                    assert not any(canary in text for canary in CANARIES), (table, column)


_counter = itertools.count()
_secret_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).map(lambda s: "Zq9~" + s)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(secret=_secret_text, keep=st.booleans())
def test_any_concealed_value_stays_inside(
    tmp_path: Path, make_flow: FlowBuilder, secret: str, keep: bool
) -> None:
    """Whatever the value (quotes, unicode, JSON-like text), no answer carries it, raw or escaped."""
    app = _app(tmp_path)
    n = next(_counter)
    flow = make_flow(f"flow-{n}", key=f"flow-{n}")
    flow["spec"]["settings"]["constants"][1]["value"] = secret
    url = f"/v1/care-flows/flow-{n}"
    with TestClient(app, headers=auth(ADMIN_KEY)) as http:
        answers = [http.put(url, json={"definition": flow}, headers={"If-None-Match": "*"})]
        second = make_flow(f"flow-{n}", key=f"flow-{n}") if keep else flow
        answers.append(http.put(url, json={"definition": second}, headers={"If-Match": '"1"'}))
        answers.append(http.post(url + "/publish"))
        answers += [http.get(url + p) for p in ("", "/history", "/history/2", "/versions")]
        answers.append(http.get("/v1/care-flows"))
    assert [a.status_code for a in answers[:3]] == [201, 200, 201]
    assert answers[3].json()["definition"]["spec"]["settings"]["constants"][1]["has_value"] is True
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for answer in answers:
        assert not any(form in answer.text for form in forms)


_apps: dict[Path, Any] = {}


def _app(tmp_path: Path) -> Any:
    # One app per test function (hypothesis calls the body many times with the same tmp_path).
    if tmp_path not in _apps:
        _apps[tmp_path] = create_app(
            Store(tmp_path / "h.db", name="h", kind="sandbox"), Keyring.from_entries(TEST_KEYS)
        )
    return _apps[tmp_path]
