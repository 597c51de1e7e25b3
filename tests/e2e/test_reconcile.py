"""Reconcile: request counts, races, a tenant failing midway, windows, and the never-overwrite property."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.client import TenantClient
from syncer.model import Status
from syncer.reconcile.apply import ApplyOptions, apply_plan
from syncer.reconcile.planner import plan_environment
from syncer.workspace import Workspace

from .conftest import BP, EU_ONLY, FLOWS, retitle
from .landscape import Landscape, example_flow, landscape


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w:
        for key in FLOWS:
            w.seed("sandbox", example_flow(key))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w


def _routes(client: TenantClient) -> dict[tuple[str, str], int]:
    return dict(client.stats.by_route)


def test_noop_reconcile_is_one_list_request_and_changes_fetch_only_what_changed(
    world: Landscape,
) -> None:
    assert world.syncer("apply", "--yes").code == 0
    ws = Workspace(world.repo)
    env = ws.environment("production-eu")
    with world.client("production-eu") as client:
        plan = plan_environment(ws, env, client)
        result = apply_plan(plan, env, client, ApplyOptions())
        assert {f.status for f in plan.flows} == {Status.IN_SYNC}
        assert result.writes() == 0
        assert _routes(client) == {("GET", "/v1/care-flows"): 1}

    world.edit("sandbox", BP, retitle("Changed in Git"))
    world.syncer("export", "--env", "sandbox", "--commit")
    ws = Workspace(world.repo)
    with world.client("production-eu") as client:
        plan = plan_environment(ws, env, client)
        result = apply_plan(plan, env, client, ApplyOptions())
        assert result.writes() == 1
        assert _routes(client) == {
            ("GET", "/v1/care-flows"): 1,
            ("GET", "/v1/care-flows/{id}"): 1,
            ("PUT", "/v1/care-flows/{id}"): 1,
        }
    ws = Workspace(world.repo)
    with world.client("production-eu") as client:  # and the next run is a no-op again
        plan = plan_environment(ws, env, client)
        assert apply_plan(plan, env, client, ApplyOptions()).writes() == 0
        assert _routes(client) == {("GET", "/v1/care-flows"): 1}


def test_production_edit_between_plan_and_apply_is_never_overwritten(world: Landscape) -> None:
    assert world.syncer("apply", "--yes").code == 0
    world.edit("sandbox", BP, retitle("Git wants this"))
    world.syncer("export", "--env", "sandbox", "--commit")
    ws = Workspace(world.repo)
    env = ws.environment("production-eu")
    with world.client("production-eu") as client:
        plan = plan_environment(ws, env, client)
        assert next(f for f in plan.flows if f.key == BP).status is Status.UPDATE
        world.edit("production-eu", BP, retitle("Hotfix that raced the apply"), hotfix=True)
        result = apply_plan(plan, env, client, ApplyOptions())
    outcome = next(r for r in result.results if r.key == BP)
    assert outcome.action == "refused" and "conflict" in outcome.detail
    live = world.live("production-eu", BP)["definition"]
    assert live["spec"]["tracks"][0]["steps"][0]["title"] == "Hotfix that raced the apply"


class _FailAfterWrites(httpx.HTTPTransport):
    """A tenant link that breaks for good after ``allowed`` writes (the tenant goes away midway)."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            if self.allowed == 0:
                raise httpx.ConnectError("injected: tenant went away", request=request)
            self.allowed -= 1
        return super().handle_request(request)


def test_tenant_failing_midway_leaves_flows_old_or_new_and_a_rerun_converges(
    world: Landscape,
) -> None:
    ws = Workspace(world.repo)
    env = ws.environment("production-eu")
    key = world.keys["production-eu"]["syncer-ci"]
    url = world.tenants["production-eu"].url
    with TenantClient(env.name, url, key, retries=0, transport=_FailAfterWrites(1)) as client:
        plan = plan_environment(ws, env, client)
        result = apply_plan(plan, env, client, ApplyOptions())
    actions = [r.action for r in result.results]
    assert actions.count("created") == 1 and "failed" in actions
    with world.client("production-eu") as client:
        live = client.list_flows()
        assert len(live) == 1  # one flow fully new, the others fully old (absent)
        full = client.get_flow(live[0]["definition_id"])
        git = ws.flows[full["key"]].document
        assert full["definition"]["spec"] == _with_env_values(full["definition"], git)["spec"]
    assert world.syncer("apply", "--yes").code == 0
    code = world.syncer("plan").code
    assert code == 0


def _with_env_values(live: dict[str, Any], git: dict[str, Any]) -> dict[str, Any]:
    """Git's document with the live constant values (the environment changes values, not shape)."""
    import copy

    from syncer.model import iter_value_items

    merged = copy.deepcopy(git)
    values = dict(iter_value_items(live))
    for ref, item in iter_value_items(merged):
        item.clear()
        item.update(values[ref])
    return merged


def test_deny_window_blocks_writes_but_not_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs = {k: dict(v) for k, v in EU_ONLY.items()}
    envs["production-eu"]["windows"] = [
        {"kind": "deny", "cron": "* * * * *", "duration": "2h", "timezone": "Europe/Brussels"}
    ]
    with landscape(tmp_path, monkeypatch, envs) as world:
        world.seed("sandbox", example_flow(BP))
        world.syncer("export", "--env", "sandbox", "--commit")
        result = world.syncer("reconcile")
        assert "deny window" in result.err
        assert world.client("production-eu").list_flows() == []
        assert world.syncer("plan").code == 2


def test_reconcile_every_runs_in_a_loop_and_converges(world: Landscape) -> None:
    result = world.syncer("reconcile", "--every", "1", "--max-runs", "2")
    assert result.code == 0, result.err
    assert "production-eu: 3 write(s)" in result.err
    assert "production-eu: 0 write(s)" in result.err  # the second run found nothing to do


OPERATIONS = st.lists(st.sampled_from(["git", "hotfix", "reconcile"]), min_size=1, max_size=6)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(OPERATIONS)
def test_reconcile_never_overwrites_a_production_edit_and_is_idempotent(
    operations: list[str],
) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        pytest.MonkeyPatch.context() as mp,
        landscape(Path(tmp), mp, EU_ONLY) as world,
    ):
        world.seed("sandbox", example_flow(BP))
        world.syncer("export", "--env", "sandbox", "--commit")
        world.syncer("reconcile")
        hotfix: str | None = None
        for number, operation in enumerate([*operations, "reconcile"]):
            if operation == "git":
                world.edit("sandbox", BP, retitle(f"git edit {number}"))
                world.syncer("export", "--env", "sandbox", "--commit")
            elif operation == "hotfix":
                hotfix = f"hotfix {number}"
                world.edit("production-eu", BP, retitle(hotfix), hotfix=True)
            else:
                world.syncer("reconcile")
                title = world.live("production-eu", BP)["definition"]["spec"]["tracks"][0]
                if hotfix is not None:
                    assert title["steps"][0]["title"] == hotfix  # never overwritten
        revision = world.live("production-eu", BP)["revision"]
        world.syncer("reconcile")
        assert world.live("production-eu", BP)["revision"] == revision  # no second write
