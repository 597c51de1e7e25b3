"""The tenant API (SPEC 5) against real uvicorn tenants on 127.0.0.1: every route, every status."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer import canonical
from syncer.cli import main
from syncer.errors import ConfigError
from syncer.tenant.auth import Keyring, digest
from syncer.tenant.embedded import RunningTenant, bind_socket
from tests.conftest import (
    ADMIN_KEY,
    PUBLISHER_KEY,
    READER_KEY,
    WRITER_KEY,
    TenantFactory,
    auth,
)

FlowBuilder = Callable[..., dict[str, Any]]
PROBLEM = "application/problem+json"
CREATE = {"If-None-Match": "*"}
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def match(revision: int) -> dict[str, str]:
    return {"If-Match": f'"{revision}"'}


def client(tenant: RunningTenant, key: str | None = ADMIN_KEY) -> httpx.Client:
    return httpx.Client(base_url=tenant.url, headers=auth(key) if key else {}, timeout=30)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


@pytest.fixture
def sandbox(tenant_factory: TenantFactory) -> RunningTenant:
    return tenant_factory("sandbox", "sandbox", region="eu")


@pytest.fixture
def api(sandbox: RunningTenant) -> Iterator[httpx.Client]:
    with client(sandbox) as http:
        yield http


def create(http: httpx.Client, flow: dict[str, Any], **body: Any) -> httpx.Response:
    url = f"/v1/care-flows/{flow['metadata']['definition_id']}"
    return http.put(url, json={"definition": flow, **body}, headers=CREATE)


# -- health, auth, tenant ------------------------------------------------------------------------


def test_healthz_needs_no_key(sandbox: RunningTenant) -> None:
    with client(sandbox, key=None) as http:
        assert http.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {ADMIN_KEY}"}, auth("not-a-key")],
    ids=["missing", "empty", "not-bearer", "unknown"],
)
def test_missing_or_unknown_key_is_401(sandbox: RunningTenant, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=sandbox.url, headers=headers) as http:
        response = http.get("/v1/care-flows")
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert ADMIN_KEY not in response.text and "not-a-key" not in response.text
    assert body["type"].startswith("urn:syncer:tenant:problem:")


@pytest.mark.parametrize(
    ("key", "method", "path", "scope"),
    [
        (READER_KEY, "PUT", "/v1/care-flows/flow-intake", "write"),
        (WRITER_KEY, "POST", "/v1/care-flows/flow-intake/publish", "publish"),
        (WRITER_KEY, "DELETE", "/v1/care-flows/flow-intake", "admin"),
        (WRITER_KEY, "PUT", "/v1/tenant/identifier-systems", "admin"),
        (PUBLISHER_KEY, "PUT", "/v1/care-flows/flow-intake", "write"),
    ],
)
def test_missing_scope_is_403(
    sandbox: RunningTenant, key: str, method: str, path: str, scope: str
) -> None:
    with client(sandbox, key) as http:
        body = assert_problem(http.request(method, path, json={}), 403)
    assert f"`{scope}`" in body["detail"]


def test_read_only_key_reads_but_cannot_write(
    sandbox: RunningTenant, api: httpx.Client, make_flow: FlowBuilder
) -> None:
    assert create(api, make_flow()).status_code == 201
    with client(sandbox, READER_KEY) as reader:
        assert reader.get("/v1/care-flows/flow-intake").status_code == 200
        assert_problem(create(reader, make_flow("flow-2", "second")), 403)
    assert [i["definition_id"] for i in api.get("/v1/care-flows").json()["items"]] == [
        "flow-intake"
    ]


def test_tenant_and_identifier_systems(api: httpx.Client) -> None:
    assert api.get("/v1/tenant").json() == {
        "name": "sandbox",
        "kind": "sandbox",
        "region": "eu",
        "identifier_systems": [],
    }
    systems = [{"name": "MRN", "display_name": "Medical record", "system": "https://x/mrn"}]
    response = api.put("/v1/tenant/identifier-systems", json={"identifier_systems": systems})
    assert response.status_code == 200
    assert response.json()["identifier_systems"] == systems
    # display_name defaults to name; the bare list is accepted too; the list is replaced, not merged.
    response = api.put("/v1/tenant/identifier-systems", json=[{"name": "SSN", "system": "urn:ssn"}])
    assert response.json()["identifier_systems"] == [
        {"name": "SSN", "display_name": "SSN", "system": "urn:ssn"}
    ]


def test_identifier_systems_are_checked(api: httpx.Client) -> None:
    bad = {"identifier_systems": [{"name": "A", "system": ""}, {"name": "A", "system": "s"}, 3]}
    body = assert_problem(api.put("/v1/tenant/identifier-systems", json=bad), 422)
    paths = {e["path"] for e in body["errors"]}
    assert paths == {
        "/identifier_systems/0/system",
        "/identifier_systems/1/name",
        "/identifier_systems/2",
    }
    assert_problem(api.put("/v1/tenant/identifier-systems", json={"systems": []}), 422)
    assert api.get("/v1/tenant").json()["identifier_systems"] == []


def test_unknown_route_and_method_are_problems(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/nothing"), 404)
    assert_problem(api.get("/v1/care-flows/"), 404)
    assert_problem(api.post("/v1/care-flows"), 405)


# -- create, read, update ------------------------------------------------------------------------


def test_create_then_get(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    response = create(api, flow, annotations={"syncer.io/git-commit": "abc"})
    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == "/v1/care-flows/flow-intake"
    body = response.json()
    assert body["revision"] == 1 and body["updated_by"] == "admin" and body["edit_source"] == "api"
    assert body["view_only"] is False and body["latest_published"] is None
    assert body["annotations"] == {"syncer.io/git-commit": "abc"}
    assert (body["key"], body["title"]) == ("intake", "Intake")
    assert UTC_Z.match(body["updated_at"])
    assert body["content_hash"] == canonical.content_hash(body["definition"])
    assert body["definition"]["layout"] == flow["layout"]
    got = api.get("/v1/care-flows/flow-intake")
    assert got.json() == body and got.headers["etag"] == '"1"'


def test_get_missing_flow_is_404(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/care-flows/nope"), 404)


def test_create_conflicts(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    url = "/v1/care-flows/flow-intake"
    assert_problem(api.put(url, json={"definition": flow}), 412)  # neither header
    assert_problem(
        api.put(url, json={"definition": flow}, headers=match(1)), 412
    )  # nothing to match
    assert_problem(api.get(url), 404)
    assert create(api, flow).status_code == 201
    flow["metadata"]["title"] = "Changed"
    body = assert_problem(create(api, flow), 412)
    assert "already exists" in body["detail"]
    again = api.get(url).json()
    assert (again["revision"], again["title"]) == (1, "Intake")


def test_key_used_by_another_flow_is_409(api: httpx.Client, make_flow: FlowBuilder) -> None:
    assert create(api, make_flow()).status_code == 201
    assert_problem(create(api, make_flow("flow-other", key="intake")), 409)
    assert_problem(api.get("/v1/care-flows/flow-other"), 404)


def test_update_increments_revision_and_stale_if_match_is_412(
    api: httpx.Client, make_flow: FlowBuilder
) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    create(api, flow)
    flow["metadata"]["title"] = "Second"
    response = api.put(url, json={"definition": flow}, headers=match(1))
    assert response.status_code == 200 and response.headers["etag"] == '"2"'
    assert response.json()["revision"] == 2
    flow["metadata"]["title"] = "Lost"
    for headers in (match(1), {}, {"If-Match": 'W/"2"'}, {"If-Match": ""}):
        assert_problem(api.put(url, json={"definition": flow}, headers=headers), 412)
    current = api.get(url).json()
    assert (current["revision"], current["title"]) == (2, "Second")
    assert len(api.get(url + "/history").json()) == 2
    # A bare revision (hand-written curl) and a list of tags are accepted.
    assert api.put(url, json={"definition": flow}, headers={"If-Match": "2"}).status_code == 200
    assert (
        api.put(url, json={"definition": flow}, headers={"If-Match": '"9", "3"'}).status_code == 200
    )


def test_definition_id_must_match_url(api: httpx.Client, make_flow: FlowBuilder) -> None:
    response = api.put("/v1/care-flows/other", json={"definition": make_flow()}, headers=CREATE)
    body = assert_problem(response, 422)
    assert [e["path"] for e in body["errors"]] == ["/definition/metadata/definition_id"]


def test_invalid_definition_lists_every_error(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    flow["metadata"]["key"] = "Not A Slug"
    flow["spec"]["tracks"][0]["steps"][0]["title"] = 7
    flow["spec"]["settings"]["constants"][0]["key"] = "lower"
    del flow["layout"]
    body = {"definition": flow, "annotations": {"ok": "x", "bad": 1}, "extra": True}
    problem = assert_problem(api.put("/v1/care-flows/flow-intake", json=body, headers=CREATE), 422)
    paths = {e["path"] for e in problem["errors"]}
    assert {
        "/definition/metadata/key",
        "/definition/spec/tracks/0/steps/0/title",
        "/definition/spec/settings/constants/0/key",
        "/annotations/bad",
        "/extra",
    } <= paths
    assert any(e["path"] == "/definition" and "layout" in e["message"] for e in problem["errors"])
    assert all(set(e) == {"path", "message"} for e in problem["errors"])
    assert_problem(api.get("/v1/care-flows/flow-intake"), 404)


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"", 400),
        (b'{"definition": NaN}', 400),
        (b'{"definition": 1e999}', 400),
        (b"\xff\xfe", 400),
        (b"[" * 200 + b"]" * 200, 400),
        (b'{"definition": {"title": "\\ud800"}}', 400),
        (b"[1, 2]", 422),
        (b'{"definition": "text"}', 422),
    ],
    ids=[
        "malformed",
        "empty",
        "nan",
        "infinite",
        "not-utf8",
        "too-deep",
        "lone-surrogate",
        "array",
        "definition-not-object",
    ],
)
def test_bad_bodies(api: httpx.Client, content: bytes, status: int) -> None:
    response = api.put(
        "/v1/care-flows/flow-intake",
        content=content,
        headers={**CREATE, "Content-Type": "application/json"},
    )
    assert_problem(response, status)


def test_body_over_size_limit_is_413(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    flow["metadata"]["description"] = "x" * (10 * 1024 * 1024)
    body = assert_problem(create(api, flow), 413)
    assert "10485760" in body["detail"]
    assert_problem(api.get("/v1/care-flows/flow-intake"), 404)


@pytest.mark.parametrize("header", [{"X-Edit-Source": "robot"}, {"X-Hotfix": "maybe"}])
def test_bad_edit_headers_are_400(
    api: httpx.Client, make_flow: FlowBuilder, header: dict[str, str]
) -> None:
    response = api.put(
        "/v1/care-flows/flow-intake", json={"definition": make_flow()}, headers={**CREATE, **header}
    )
    assert_problem(response, 400)


# -- view-only production flows, hotfixes --------------------------------------------------------


def test_studio_edit_of_view_only_flow(
    tenant_factory: TenantFactory, make_flow: FlowBuilder
) -> None:
    production = tenant_factory("production-eu", "production", region="eu")
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    studio = {"X-Edit-Source": "studio"}
    with client(production, WRITER_KEY) as http:
        assert_problem(http.put(url, json={"definition": flow}, headers={**CREATE, **studio}), 409)
        created = http.put(
            url, json={"definition": flow}, headers={**CREATE, "X-Edit-Source": "syncer"}
        )
        assert created.status_code == 201 and created.json()["view_only"] is True
        flow["metadata"]["title"] = "Hotfixed"
        body = assert_problem(
            http.put(url, json={"definition": flow}, headers={**match(1), **studio}), 409
        )
        assert "X-Hotfix" in body["detail"]
        assert http.get(url).json()["revision"] == 1
        hotfix = {**match(1), **studio, "X-Hotfix": "true"}
        response = http.put(url, json={"definition": flow}, headers=hotfix)
        assert response.status_code == 200
        assert response.json()["edit_source"] == "studio"
        latest, first = http.get(url + "/history").json()
        assert (latest["hotfix"], latest["edit_source"], latest["user"]) == (
            True,
            "studio",
            "writer",
        )
        assert (first["hotfix"], first["edit_source"]) == (False, "syncer")
        assert all(item["view_only"] for item in http.get("/v1/care-flows").json()["items"])


def test_studio_edits_are_free_in_sandbox(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    headers = {**CREATE, "X-Edit-Source": "studio"}
    response = api.put("/v1/care-flows/flow-intake", json={"definition": flow}, headers=headers)
    assert response.status_code == 201 and response.json()["view_only"] is False


# -- concealed values and annotations ------------------------------------------------------------


def _concealed(definition: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = definition["spec"]["settings"]
    return settings["constants"][1], settings["extensions"]["elation"]["client_secret"]


def test_concealed_values_are_write_only(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    constant, setting = _concealed(flow)
    constant["value"] = "s3cret-constant"
    blank = create(api, flow).json()
    got_constant, got_setting = _concealed(blank["definition"])
    assert got_constant == {"id": "cst-key", "key": "EHR_API_KEY", "label": "EHR API key",
                            "concealed": True, "has_value": True}  # fmt: skip
    assert got_setting["has_value"] is False and "value" not in got_setting  # blank on create
    assert "s3cret-constant" not in api.get(url).text
    # No value keeps what is stored; a value sets it; "" blanks it. GET's has_value may be echoed.
    echoed = api.put(url, json={"definition": blank["definition"]}, headers=match(1)).json()
    assert [i["has_value"] for i in _concealed(echoed["definition"])] == [True, False]
    _, setting = _concealed(flow)
    constant, setting = _concealed(flow)
    constant["value"], setting["value"] = "", "s3cret-setting"
    updated = api.put(url, json={"definition": flow}, headers=match(2)).json()
    assert [i["has_value"] for i in _concealed(updated["definition"])] == [False, True]
    assert updated["content_hash"] != echoed["content_hash"]  # has_value is part of the hash
    assert updated["content_hash"] == canonical.content_hash(updated["definition"])


def test_concealed_item_removed_then_readded_is_blank(
    api: httpx.Client, make_flow: FlowBuilder
) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    _concealed(flow)[0]["value"] = "s3cret"
    create(api, flow)
    without = make_flow()
    without["spec"]["settings"]["constants"].pop(1)
    api.put(url, json={"definition": without}, headers=match(1))
    readded = api.put(url, json={"definition": make_flow()}, headers=match(2)).json()
    assert _concealed(readded["definition"])[0]["has_value"] is False


def test_concealed_item_needs_unique_id(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    constant, setting = _concealed(flow)
    setting["id"] = constant["id"]
    body = assert_problem(create(api, flow), 422)
    assert "/definition/spec/settings/extensions/elation/client_secret" in {
        e["path"] for e in body["errors"]
    }


def test_annotations_are_kept_unless_sent(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    create(api, flow, annotations={"syncer.io/last-applied-hash": "h1", "team": "cardio"})
    kept = api.put(url, json={"definition": flow}, headers=match(1)).json()
    assert kept["annotations"] == {"syncer.io/last-applied-hash": "h1", "team": "cardio"}
    replaced = api.put(url, json={"definition": flow, "annotations": {}}, headers=match(2)).json()
    assert replaced["annotations"] == {} and replaced["revision"] == 3
    assert_problem(
        api.put(url, json={"definition": flow, "annotations": []}, headers=match(3)), 422
    )


# -- list and conditional GETs -------------------------------------------------------------------


def test_list_has_summaries_with_annotations_and_304(
    api: httpx.Client, make_flow: FlowBuilder
) -> None:
    empty = api.get("/v1/care-flows")
    assert empty.json() == {"items": []}
    create(api, make_flow("flow-b", "bbb"), annotations={"a": "1"})
    create(api, make_flow("flow-a", "aaa"))
    listed = api.get("/v1/care-flows")
    etag = listed.headers["etag"]
    assert etag != empty.headers["etag"] and not etag.startswith("W/")
    items = listed.json()["items"]
    assert [i["key"] for i in items] == ["aaa", "bbb"]
    assert items[1]["annotations"] == {"a": "1"} and "definition" not in items[1]
    assert set(items[0]) == {
        "definition_id", "key", "title", "revision", "content_hash", "view_only", "updated_at",
        "updated_by", "edit_source", "annotations", "latest_published",
    }  # fmt: skip
    for header in (etag, "*", f'"other", {etag}', f"W/{etag}"):
        unchanged = api.get("/v1/care-flows", headers={"If-None-Match": header})
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert unchanged.headers["etag"] == etag
    api.put(
        "/v1/care-flows/flow-a", json={"definition": make_flow("flow-a", "aaa")}, headers=match(1)
    )
    changed = api.get("/v1/care-flows", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_get_flow_if_none_match_is_304(api: httpx.Client, make_flow: FlowBuilder) -> None:
    create(api, make_flow())
    assert (
        api.get("/v1/care-flows/flow-intake", headers={"If-None-Match": '"1"'}).status_code == 304
    )
    assert (
        api.get("/v1/care-flows/flow-intake", headers={"If-None-Match": '"0"'}).status_code == 200
    )


# -- publish, versions, history ------------------------------------------------------------------


def test_publish_and_versions_are_immutable(
    sandbox: RunningTenant, api: httpx.Client, make_flow: FlowBuilder
) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    create(api, flow)
    with client(sandbox, PUBLISHER_KEY) as publisher:
        first = publisher.post(url + "/publish")
        assert first.status_code == 201
        release = first.json()
        assert release["version"] == 1 and release["notes"] is None and release["revision"] == 1
        assert re.fullmatch(r"[A-Za-z0-9_-]{8,}", release["release_id"])
        assert UTC_Z.match(release["published_at"]) and release["published_by"] == "publisher"
        flow["metadata"]["title"] = "Second"
        api.put(url, json={"definition": flow}, headers=match(1))
        second = publisher.post(url + "/publish", json={"notes": "go live"}).json()
        assert (second["version"], second["notes"], second["revision"]) == (2, "go live", 2)
        assert second["release_id"] != release["release_id"]
    flow["metadata"]["title"] = "Third"
    api.put(url, json={"definition": flow}, headers=match(2))
    versions = api.get(url + "/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert [v["definition"]["metadata"]["title"] for v in versions] == ["Second", "Intake"]
    assert api.get(url + "/versions/1").json() == versions[1]
    summary = api.get(url).json()
    assert summary["latest_published"] == {
        "version": 2,
        "release_id": second["release_id"],
        "published_at": second["published_at"],
        "revision": 2,
        "content_hash": second["content_hash"],
    }
    assert summary["title"] == "Third"  # publishing never touches the working version


def test_publish_errors(api: httpx.Client, make_flow: FlowBuilder) -> None:
    assert_problem(api.post("/v1/care-flows/nope/publish"), 404)
    create(api, make_flow())
    url = "/v1/care-flows/flow-intake"
    assert_problem(api.post(url + "/publish", json={"notes": 5}), 422)
    assert_problem(api.post(url + "/publish", json={"other": "x"}), 422)
    assert_problem(
        api.post(url + "/publish", content=b"{", headers={"Content-Type": "application/json"}), 400
    )
    assert api.get(url + "/versions").json() == []
    for path in (
        "/versions/1",
        "/versions/0",
        "/versions/abc",
        "/versions/99999999999999999999999",
    ):
        assert_problem(api.get(url + path), 404)
    assert_problem(api.get("/v1/care-flows/nope/versions"), 404)


def test_history(api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    created = create(api, flow).json()
    flow["metadata"]["title"] = "Second"
    updated = api.put(
        url, json={"definition": flow}, headers={**match(1), "X-Edit-Source": "syncer"}
    ).json()
    history = api.get(url + "/history").json()
    assert [h["revision"] for h in history] == [2, 1]
    assert history[0] == {
        "revision": 2,
        "at": updated["updated_at"],
        "user": "admin",
        "edit_source": "syncer",
        "hotfix": False,
        "content_hash": updated["content_hash"],
    }
    first = api.get(url + "/history/1").json()
    assert (
        first["definition"] == created["definition"]
        and first["content_hash"] == created["content_hash"]
    )
    assert first["definition"]["metadata"]["title"] == "Intake"
    for path in ("/history/3", "/history/0", "/history/x"):
        assert_problem(api.get(url + path), 404)
    assert_problem(api.get("/v1/care-flows/nope/history"), 404)


# -- delete --------------------------------------------------------------------------------------


def test_delete(sandbox: RunningTenant, api: httpx.Client, make_flow: FlowBuilder) -> None:
    flow, url = make_flow(), "/v1/care-flows/flow-intake"
    create(api, flow)
    with client(sandbox, WRITER_KEY) as writer:
        assert_problem(writer.delete(url, headers=match(1)), 403)
    assert_problem(api.delete(url), 412)
    assert_problem(api.delete(url, headers=match(7)), 412)
    assert api.delete(url, headers=match(1)).status_code == 204
    assert_problem(api.get(url), 404)
    assert_problem(api.delete(url, headers=match(1)), 404)
    assert create(api, flow).json()["revision"] == 2  # the same id: its history goes on
    assert [h["revision"] for h in api.get(url + "/history").json()] == [2, 1]


# -- concurrency and durability ------------------------------------------------------------------


@pytest.mark.parametrize("writers", [2, 6])
def test_racing_writers_exactly_one_wins(
    sandbox: RunningTenant, api: httpx.Client, make_flow: FlowBuilder, writers: int
) -> None:
    url = "/v1/care-flows/flow-intake"
    create(api, make_flow())
    for round_number in range(1, 6):
        barrier = threading.Barrier(writers)
        results: dict[int, int] = {}

        def write(
            index: int,
            revision: int = round_number,
            barrier: threading.Barrier = barrier,
            results: dict[int, int] = results,
        ) -> None:
            flow = make_flow()
            flow["metadata"]["title"] = f"writer {index}"
            with client(sandbox, WRITER_KEY) as http:
                barrier.wait()
                response = http.put(url, json={"definition": flow}, headers=match(revision))
            results[index] = response.status_code

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results.values()) == [200] + [412] * (writers - 1)
        winner = next(i for i, status in results.items() if status == 200)
        current = api.get(url).json()
        assert (current["revision"], current["title"]) == (round_number + 1, f"writer {winner}")
    assert [h["revision"] for h in api.get(url + "/history").json()] == list(range(6, 0, -1))


def test_restart_keeps_everything(
    tenant_factory: TenantFactory, make_flow: FlowBuilder, tmp_path: Path
) -> None:
    db = tmp_path / "durable.db"
    first = tenant_factory("production-us", "production", region="us", db_path=db)
    flow = make_flow()
    _concealed(flow)[0]["value"] = "kept-secret"
    with client(first) as http:
        http.put("/v1/care-flows/flow-intake", json={"definition": flow, "annotations": {"a": "b"}},
                 headers={**CREATE, "X-Edit-Source": "syncer"})  # fmt: skip
        http.post("/v1/care-flows/flow-intake/publish", json={"notes": "v1"})
        http.put(
            "/v1/tenant/identifier-systems",
            json={"identifier_systems": [{"name": "MRN", "system": "s"}]},
        )
        before = (http.get("/v1/care-flows/flow-intake").json(), http.get("/v1/tenant").json())
    first.stop()
    second = tenant_factory("production-us", "production", region="us", db_path=db)
    assert second.port != 0
    with client(second) as http:
        after = (http.get("/v1/care-flows/flow-intake").json(), http.get("/v1/tenant").json())
        assert after == before
        assert _concealed(after[0]["definition"])[0]["has_value"] is True
        assert len(http.get("/v1/care-flows/flow-intake/versions").json()) == 1
        response = http.put("/v1/care-flows/flow-intake", json={"definition": make_flow()},
                            headers={**match(1), "X-Edit-Source": "syncer"})  # fmt: skip
        assert response.json()["revision"] == 2
        assert _concealed(response.json()["definition"])[0]["has_value"] is True
    second.stop()
    with pytest.raises(ConfigError, match="holds tenant 'production-us'"):
        tenant_factory("sandbox", "sandbox", db_path=db)


# -- keys and the serve command ------------------------------------------------------------------


def test_keys_from_env_value_and_file(tmp_path: Path) -> None:
    ring = Keyring.from_env_value("ci:abc:def-123456:read+write, ops:ops-key-999:admin")
    ci = ring.authenticate("abc:def-123456")
    assert ci is not None and ci.name == "ci" and ci.scopes == {"read", "write"}
    assert ring.authenticate("ops-key-998") is None
    keys = tmp_path / "keys.yaml"
    keys.write_text(
        f"- {{name: ci, key: ci-key-12345, scopes: [read]}}\n"
        f"- {{name: hashed, key_sha256: {digest('hashed-key-1')}, scopes: [publish]}}\n"
    )
    ring = Keyring.from_file(keys)
    assert ring.names == ["ci", "hashed"]
    hashed = ring.authenticate("hashed-key-1")
    assert hashed is not None and hashed.can("publish") and not hashed.can("read")


@pytest.mark.parametrize(
    "value",
    ["", "nocolons", "ci:key-123456:fly", "ci:short:read", "a:key-123456:read,b:key-123456:read"],
)
def test_bad_key_config_is_a_clear_error(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Keyring.from_env_value(value)
    assert "key-123456" not in str(caught.value) and "short" not in str(caught.value).split(":")[-1]


def test_serve_without_keys_or_on_a_busy_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SYNCER_TENANT_KEYS", raising=False)
    args = ["tenant", "serve", "--name", "s", "--kind", "sandbox", "--db", str(tmp_path / "s.db")]
    assert main([*args, "--port", "0"]) == 1
    assert "SYNCER_TENANT_KEYS" in capsys.readouterr().err
    assert main([*args, "--port", "0", "--keys", str(tmp_path / "missing.yaml")]) == 1
    taken = bind_socket(0)
    taken.listen()
    try:
        monkeypatch.setenv("SYNCER_TENANT_KEYS", "ci:ci-key-123456:read")
        assert main([*args, "--port", str(taken.getsockname()[1])]) == 1
        err = capsys.readouterr().err
        assert "cannot listen on 127.0.0.1" in err and "Traceback" not in err
    finally:
        taken.close()


def test_serve_in_the_foreground(tmp_path: Path) -> None:
    sock = bind_socket(0)
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "SYNCER_TENANT_KEYS": f"ci:{ADMIN_KEY}:read+write"}
    command = [sys.executable, "-m", "syncer", "tenant", "serve", "--name", "eu", "--kind",
               "production", "--port", str(port), "--db", str(tmp_path / "eu.db")]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                tenant = httpx.get(f"http://127.0.0.1:{port}/v1/tenant", headers=auth(ADMIN_KEY))
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert tenant.json()["kind"] == "production"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"serving http://127.0.0.1:{port}" in err and ADMIN_KEY not in err


def test_problem_bodies_are_json(api: httpx.Client) -> None:
    response = api.get("/v1/care-flows/nope")
    assert json.loads(response.content)["title"] == "Not Found"
