"""What syncer costs, in counts that do not depend on the machine (``make bench`` measures the times).

Real tenants over HTTP on 127.0.0.1, a real Git repository of generated flows, the command line:

- a no-op plan or reconcile makes exactly one request per environment and loads no flow document;
- a reconcile after a change in Git fetches and writes exactly the changed flows;
- drift fetches exactly the drifted flows (and their history) and writes nothing;
- export fetches every flow once, concurrently; a second export proves every file unchanged without
  parsing one; validating in worker processes finds exactly what validating in-process finds.
"""

from __future__ import annotations

import contextlib
import copy
import io
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import httpx
import pytest

from bench.generate import generate_flow
from syncer import exporter, yamlio
from syncer.cli import main
from syncer.client import TenantClient
from syncer.errors import ValidationError
from syncer.model import flow_file_header, iter_value_items
from syncer.tenant.embedded import RunningTenant, start_tenant
from syncer.workspace import cache as parse_cache

FLOWS = 50
STEPS = 6
KEY = "counts-ci-key-5f1e2d"
STUDIO = "counts-studio-key-93ab"
KEYS = [
    {"name": "syncer-ci", "key": KEY, "scopes": ["read", "write", "publish", "admin"]},
    {"name": "dr.jansen", "key": STUDIO, "scopes": ["read", "write"]},
]
TARGETS = {
    "production-eu": {"constants": {"EHR_BASE_URL": "https://ehr.eu.example.org"}},
    "production-us": {"ignore": ["spec.settings.reminders"]},
}
LIST = ("GET", "/v1/care-flows")
GET = ("GET", "/v1/care-flows/{id}")
PUT = ("PUT", "/v1/care-flows/{id}")
HISTORY = ("GET", "/v1/care-flows/{id}/history")
TENANT = ("GET", "/v1/tenant")


@dataclass
class World:
    repo: Path
    tenants: dict[str, RunningTenant]
    keys: list[str]
    clients: list[TenantClient] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=lambda: [0, 0])  # now, most at once
    calls: Counter[str] = field(default_factory=Counter)  # loads and parses of flow documents

    def run(self, *argv: str) -> int:
        self.clients.clear()
        self.calls.clear()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return main([*argv, "--repo", str(self.repo)])

    def routes(self, environment: str) -> dict[tuple[str, str], int]:
        found: Counter[tuple[str, str]] = Counter()
        for client in self.clients:
            if client.environment == environment:
                found.update(client.stats.by_route)
        return dict(found)

    def requests(self) -> int:
        return sum(c.stats.requests for c in self.clients)

    def commit(self, message: str) -> None:
        repo = git.Repo(self.repo)
        repo.git.add("--all")
        repo.git.commit("-m", message)


def _environment(name: str, role: str, url: str, extra: dict[str, Any]) -> str:
    data = {
        "apiVersion": "syncer.careflow/v1",
        "kind": "Environment",
        "name": name,
        "role": role,
        "region": "eu",
        "url": url,
        "api_key_env": f"COUNTS_{name.upper().replace('-', '_')}_KEY",
        "flows": "all",
        **extra,
    }
    return yamlio.dump(data)


def _flow(index: int) -> dict[str, Any]:
    return generate_flow(100 + index, STEPS, key=f"counted-{index:03d}")


def _write_flow(repo: Path, document: dict[str, Any]) -> None:
    path = repo / "flows" / document["metadata"]["key"] / "flow.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlio.dump(document, flow_file_header()), "utf-8")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One parse cache for the module: the tests share flows, so only the first parses them."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def world(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(cache))
    monkeypatch.setenv("SYNCER_ACTOR", "ci-bot")
    repo = tmp_path / "repo"
    with contextlib.ExitStack() as stack:
        tenants = {}
        for name in ("sandbox", *TARGETS):
            kind = "sandbox" if name == "sandbox" else "production"
            tenant = start_tenant(name, kind, tmp_path / f"{name}.db", KEYS, region="eu")
            stack.enter_context(tenant)
            tenants[name] = tenant
            monkeypatch.setenv(f"COUNTS_{name.upper().replace('-', '_')}_KEY", KEY)
        git.Repo.init(repo, initial_branch="main")
        (repo / "environments").mkdir(parents=True)
        for name, tenant in tenants.items():
            role = "source" if name == "sandbox" else "target"
            text = _environment(name, role, tenant.url, TARGETS.get(name, {}))
            (repo / "environments" / f"{name}.yaml").write_text(text, "utf-8")
        keys = []
        for index in range(FLOWS):
            document = _flow(index)
            _write_flow(repo, document)
            keys.append(document["metadata"]["key"])
        here = World(repo, tenants, keys)
        with git.Repo(repo).config_writer() as config:
            config.set_value("user", "name", "Counter")
            config.set_value("user", "email", "counter@example.org")
        here.commit("flows")
        _instrument(here, monkeypatch)
        yield here
        for client in here.clients:
            client.close()


def _instrument(here: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Count clients, requests in flight, and every load or parse of a flow document."""
    lock = threading.Lock()
    init, send = TenantClient.__init__, TenantClient._send_once

    def counted_init(self: TenantClient, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        here.clients.append(self)

    def counted_send(self: TenantClient, call: Any) -> httpx.Response:
        with lock:
            here.in_flight[0] += 1
            here.in_flight[1] = max(here.in_flight)
        try:
            return send(self, call)
        finally:
            with lock:
                here.in_flight[0] -= 1

    monkeypatch.setattr(TenantClient, "__init__", counted_init)
    monkeypatch.setattr(TenantClient, "_send_once", counted_send)
    for module, name in ((parse_cache, "load_document"), (yamlio, "load_text")):
        original = getattr(module, name)

        def counted(*args: Any, _original: Any = original, _name: str = name) -> Any:
            if _name == "load_document" or "flows/" in str(args[1]):  # not environment files
                here.calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(module, name, counted)
    import syncer.workspace

    monkeypatch.setattr(syncer.workspace, "load_text", yamlio.load_text)
    monkeypatch.setattr(exporter, "load_text", yamlio.load_text)


def _applied(world: World) -> None:
    assert world.run("apply", "--yes") == 0
    for name in TARGETS:
        assert world.routes(name) == {LIST: 1, PUT: FLOWS}  # creates: nothing to fetch first


def test_a_noop_plan_and_reconcile_make_one_request_per_environment(world: World) -> None:
    _applied(world)
    for command in ("plan", "reconcile"):
        assert world.run(command) == 0
        assert world.requests() == len(TARGETS)
        for name in TARGETS:
            assert world.routes(name) == {LIST: 1}
        assert world.calls == {}  # every flow judged from its digest: no document loaded or parsed


def test_a_change_in_git_fetches_and_writes_exactly_the_changed_flows(world: World) -> None:
    _applied(world)
    changed = world.keys[3:6]
    for key in changed:
        path = world.repo / "flows" / key / "flow.yaml"
        document = yamlio.load_file(path).data
        document["spec"]["tracks"][0]["steps"][0]["title"] += " (revised)"
        _write_flow(world.repo, document)
    world.commit("three flows changed")
    assert world.run("plan") == 2
    for name in TARGETS:
        assert world.routes(name) == {LIST: 1, GET: len(changed)}
    assert world.run("reconcile") == 0
    for name in TARGETS:
        assert world.routes(name) == {LIST: 1, GET: len(changed), PUT: len(changed)}
    assert world.run("plan") == 0
    assert world.requests() == len(TARGETS)


def test_drift_fetches_exactly_the_drifted_flows_and_writes_nothing(world: World) -> None:
    _applied(world)
    drifted = world.keys[10:12]
    eu = world.tenants["production-eu"]
    with httpx.Client(base_url=eu.url, headers={"Authorization": f"Bearer {STUDIO}"}) as studio:
        ids = {s["key"]: s["definition_id"] for s in studio.get("/v1/care-flows").json()["items"]}
        for key in drifted:
            live = studio.get(f"/v1/care-flows/{ids[key]}").json()
            definition = live["definition"]
            for _ref, item in iter_value_items(definition):
                item.pop("has_value", None)
            definition["spec"]["tracks"][0]["steps"][0]["title"] += " (hotfix)"
            headers = {"If-Match": f'"{live["revision"]}"', "X-Edit-Source": "studio"}
            headers["X-Hotfix"] = "true"
            response = studio.put(
                f"/v1/care-flows/{ids[key]}", json={"definition": definition}, headers=headers
            )
            response.raise_for_status()
    for command in ("plan", "reconcile"):
        assert world.run(command) == 3
        assert world.routes("production-eu") == {LIST: 1, GET: 2, HISTORY: 2}
        assert world.routes("production-us") == {LIST: 1}


def test_preflight_reads_each_tenant_once(world: World) -> None:
    """The checklist reuses what the planner read: one list and one GET per flow, never a second
    list or a second fetch of the same flow."""
    _applied(world)
    path = world.repo / "flows" / world.keys[0] / "flow.yaml"
    document = yamlio.load_file(path).data
    document["spec"]["tracks"][0]["steps"][0]["title"] += " (revised)"  # one flow the plan fetches
    _write_flow(world.repo, document)
    world.commit("one flow changed")
    assert world.run("preflight", "--env", "production-eu") == 3  # the update blocks
    assert world.routes("production-eu") == {TENANT: 1, LIST: 1, GET: FLOWS}
    assert world.routes("sandbox") == {TENANT: 1, LIST: 1}  # Sandbox has none of the flows


def test_export_fetches_concurrently_and_a_second_export_parses_nothing(world: World) -> None:
    sandbox = world.tenants["sandbox"]
    with TenantClient("sandbox", sandbox.url, STUDIO, retries=0) as studio:
        for index in range(12):
            document = _flow(200 + index)
            for _ref, item in iter_value_items(document):
                if item.get("concealed"):
                    item["value"] = "sandbox-secret"
            studio.put_flow(
                document["metadata"]["definition_id"], document, create=True, edit_source="studio"
            )
    export = world.repo / "exported"
    export.mkdir()
    git.Repo.init(export)
    (export / "environments").mkdir()
    text = (world.repo / "environments" / "sandbox.yaml").read_text("utf-8")
    (export / "environments" / "sandbox.yaml").write_text(text, "utf-8")
    world.repo = export
    assert world.run("export", "--env", "sandbox") == 0
    assert world.routes("sandbox") == {LIST: 1, GET: 12}
    assert world.in_flight[1] > 1  # concurrent requests
    written = sorted(export.glob("flows/*/flow.yaml"))
    for path in written:
        expected = _flow(int(path.parent.name.split("-")[1]))
        assert path.read_text("utf-8") == yamlio.dump(expected, flow_file_header())
    before = {p: p.read_bytes() for p in written}
    assert world.run("export", "--env", "sandbox") == 0
    assert world.routes("sandbox") == {LIST: 1, GET: 12}
    assert world.calls == {}  # every file proven unchanged from the parse cache
    assert {p: p.read_bytes() for p in written} == before


def test_validating_in_worker_processes_finds_what_one_process_finds(tmp_path: Path) -> None:
    flows = [{"definition": _flow(300 + i), "revision": 1} for i in range(12)]
    broken = copy.deepcopy(flows[10])
    broken["definition"]["spec"]["tracks"][0]["steps"][0]["title"] = 42
    flows[10] = broken
    found = []
    for workers in (1, 2):
        with pytest.raises(ValidationError) as caught:
            exporter.plan_files(tmp_path, flows, {}, workers=workers)
        found.append([str(p) for p in caught.value.problems])
    assert found[0] == found[1] and found[0]
    texts, result = exporter.plan_files(tmp_path, flows[:10], {}, workers=2)
    assert len(result.written) == 10 and set(texts) == set(result.written)
