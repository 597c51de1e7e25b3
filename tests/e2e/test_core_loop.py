"""The core loop end to end: Sandbox -> export -> Git -> plan -> apply -> Production, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syncer.model import ANN_GIT_COMMIT, ANN_LAST_APPLIED_HASH, iter_value_items

from .conftest import BP, BP_ONLY, FLOWS, first_step_title, promote, read_plans, retitle
from .landscape import CANARY, ENV_CANARY, Landscape, example_flow, landscape, tree_bytes


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch) as w:
        for key in FLOWS:
            w.seed("sandbox", example_flow(key))
        yield w


def test_export_writes_canonical_files_and_is_idempotent(world: Landscape) -> None:
    result = world.syncer("export", "--env", "sandbox", "--commit")
    assert result.code == 0, result.err
    for key in FLOWS:
        assert (world.repo / "flows" / key / "flow.yaml").is_file()
    message = world.git().head.commit.message
    assert "sandbox" in message and "remote-bp-monitoring: revision 1" in message
    before, head = tree_bytes(world.repo), world.git().head.commit.hexsha
    again = world.syncer("export", "--env", "sandbox", "--commit")
    assert again.code == 0 and "no commit" in again.out
    assert tree_bytes(world.repo) == before and world.git().head.commit.hexsha == head


def test_first_promotion_creates_later_ones_update_nothing_published(world: Landscape) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    code, plans = read_plans(world)
    assert code == 2
    assert {f["status"] for f in plans["production-eu"].values()} == {"create"}
    assert set(plans["production-us"]) == {"post-op-knee-recovery", "remote-bp-monitoring"}
    assert world.syncer("apply", "--yes").code == 0
    for env in ("production-eu", "production-us"):
        with world.client(env) as tenant:
            for summary in tenant.list_flows():
                assert summary["latest_published"] is None  # promotion never publishes
                assert summary["view_only"] is True
    sandbox_ids = {s["key"]: s["definition_id"] for s in world.client("sandbox").list_flows()}
    eu_ids = {s["key"]: s["definition_id"] for s in world.client("production-eu").list_flows()}
    assert eu_ids == sandbox_ids  # ids are identical across environments
    live = world.live("production-eu", BP)["definition"]
    assert live == _same_ids(live, example_flow(BP))
    assert read_plans(world)[0] == 0

    world.edit("sandbox", BP, retitle("Measure blood pressure twice daily"))
    world.syncer("export", "--env", "sandbox", "--commit")
    code, plans = read_plans(world)
    assert code == 2 and plans["production-eu"][BP]["status"] == "update"
    revision = world.live("production-eu", BP)["revision"]
    assert world.syncer("apply", "--yes").code == 0
    updated = world.live("production-eu", BP)
    assert updated["revision"] == revision + 1
    assert first_step_title(updated["definition"]) == "Measure blood pressure twice daily"
    assert updated["annotations"][ANN_GIT_COMMIT] == world.git().head.commit.hexsha
    assert updated["latest_published"] is None


def _same_ids(live: dict[str, Any], git: dict[str, Any]) -> dict[str, Any]:
    assert live["metadata"]["definition_id"] == git["metadata"]["definition_id"]
    live_ids = [s["id"] for t in live["spec"]["tracks"] for s in t["steps"]]
    git_ids = [s["id"] for t in git["spec"]["tracks"] for s in t["steps"]]
    assert sorted(live_ids) == sorted(git_ids)
    return live


def test_constants_decisions(world: Landscape) -> None:
    promote(world)
    eu = world.live("production-eu", BP)["definition"]
    us = world.live("production-us", BP)["definition"]
    values = {ref: item for ref, item in iter_value_items(eu)}
    assert values["EHR_BASE_URL"]["value"] == "https://ehr.eu.example.org"  # set_from_environment
    assert values["EHR_API_KEY"] == {**values["EHR_API_KEY"], "has_value": True}  # set_from_secret
    assert dict(iter_value_items(us))["EHR_API_KEY"]["has_value"] is False  # blank: no source

    def destination_sets_threshold(definition: dict[str, Any]) -> None:
        for ref, item in iter_value_items(definition):
            if ref == "ALERT_THRESHOLD_SYSTOLIC":
                item["value"] = "135"

    world.edit("production-eu", BP, destination_sets_threshold, hotfix=True)
    _code, plans = read_plans(world)
    decisions = {c["key"]: c for c in plans["production-eu"][BP]["constants"]}
    assert plans["production-eu"][BP]["status"] == "in_sync"  # a value edit is not drift
    assert decisions["ALERT_THRESHOLD_SYSTOLIC"]["decision"] == "keep_destination"
    assert decisions["EHR_BASE_URL"]["decision"] == "set_from_environment"
    assert decisions["EHR_API_KEY"] == {
        "key": "EHR_API_KEY",
        "concealed": True,
        "decision": "keep_destination",
        "note": "set in the destination",
    }
    us_decisions = {c["key"]: c["decision"] for c in plans["production-us"][BP]["constants"]}
    assert us_decisions["EHR_API_KEY"] == "blank"
    assert us_decisions["ALERT_THRESHOLD_SYSTOLIC"] == "set_from_git"

    # Git changes the threshold later: the destination's own value still wins.
    world.edit(
        "sandbox",
        BP,
        lambda d: [
            i.update(value="150") for r, i in iter_value_items(d) if r == "ALERT_THRESHOLD_SYSTOLIC"
        ],
    )
    world.syncer("export", "--env", "sandbox", "--commit")
    assert world.syncer("apply", "--yes").code == 0
    eu_values = dict(iter_value_items(world.live("production-eu", BP)["definition"]))
    us_values = dict(iter_value_items(world.live("production-us", BP)["definition"]))
    assert eu_values["ALERT_THRESHOLD_SYSTOLIC"]["value"] == "135"
    assert us_values["ALERT_THRESHOLD_SYSTOLIC"]["value"] == "150"


def test_drift_is_flagged_and_never_overwritten(world: Landscape) -> None:
    promote(world)
    world.edit("production-eu", BP, retitle("HOTFIX: call the patient first"), hotfix=True)
    code, plans = read_plans(world)
    assert code == 3
    flow = plans["production-eu"][BP]
    assert flow["status"] == "drift"
    assert flow["live_edits"][0]["user"] == "dr.jansen" and flow["live_edits"][0]["hotfix"] is True
    assert any(c["after"] == "HOTFIX: call the patient first" for c in flow["changes"])
    assert plans["production-us"][BP]["status"] == "in_sync"
    assert world.syncer("apply", "--yes").code == 3
    live = world.live("production-eu", BP)["definition"]
    assert first_step_title(live) == "HOTFIX: call the patient first"

    result = world.syncer(
        "apply", "--yes", "--env", "production-eu", "--flow", BP, "--overwrite-drift"
    )
    assert result.code == 0, result.err
    assert "dr.jansen" in result.err
    assert "syncer overwrites it now, as --overwrite-drift asks" in result.out
    assert "will not overwrite" not in result.out  # it said so right before overwriting
    assert (
        first_step_title(world.live("production-eu", BP)["definition"])
        != "HOTFIX: call the patient first"
    )


def test_conflict_when_both_sides_changed(world: Landscape) -> None:
    promote(world)
    world.edit("production-eu", BP, retitle("HOTFIX title"), hotfix=True)
    world.edit(
        "sandbox", BP, lambda d: d["spec"]["tracks"][-1]["steps"][-1].update(title="Git title")
    )
    world.syncer("export", "--env", "sandbox", "--commit")
    code, plans = read_plans(world)
    assert code == 3
    assert plans["production-eu"][BP]["status"] == "conflict"
    assert plans["production-eu"][BP]["git_side"]  # what Git changed since the last apply
    assert plans["production-us"][BP]["status"] == "update"
    world.syncer("apply", "--yes")
    assert first_step_title(world.live("production-eu", BP)["definition"]) == "HOTFIX title"


def test_unmanaged_flow_is_left_alone_until_adopted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with landscape(tmp_path, monkeypatch) as world:
        flow = example_flow(BP)
        world.seed("sandbox", flow)
        world.syncer("export", "--env", "sandbox", "--commit")
        stray = json.loads(json.dumps(flow))
        stray["spec"]["tracks"][0]["steps"][0]["title"] = "Made by hand in production"
        world.seed("production-eu", stray)
        code, plans = read_plans(world, "--env", "production-eu")
        assert code == 3 and plans["production-eu"][BP]["status"] == "unmanaged"
        assert world.syncer("apply", "--yes", "--env", "production-eu").code == 3
        assert world.live("production-eu", BP)["annotations"] == {}
        assert world.syncer("apply", "--yes", "--env", "production-eu", "--adopt").code == 0
        live = world.live("production-eu", BP)
        assert ANN_LAST_APPLIED_HASH in live["annotations"]
        assert read_plans(world, "--env", "production-eu")[0] == 0


def test_a_flow_made_by_hand_in_production_is_listed_as_untracked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with landscape(tmp_path, monkeypatch, BP_ONLY) as world:
        world.seed("sandbox", example_flow(BP))
        promote(world)
        by_hand = example_flow("depression-screening")  # never exported: not in Git
        world.seed("production-eu", by_hand)
        revision = world.live("production-eu", "depression-screening")["revision"]
        code, plans = read_plans(world, "--env", "production-eu")
        assert code == 0, "informational: nothing to apply, nobody needs to act"
        flow = plans["production-eu"]["depression-screening"]
        assert flow["status"] == "untracked" and "never written by syncer" in flow["reason"]
        data = json.loads(world.syncer("plan", "--output", "json", "--env", "production-eu").out)
        assert data["summary"]["untracked"] == 1
        text = world.syncer("plan", "--env", "production-eu").out
        assert "untracked" in text and "depression-screening" in text
        report = world.syncer("report", "--env", "production-eu", "--output", "markdown").out
        assert "**Untracked** (1): `depression-screening`" in report
        assert "syncer bootstrap --from production-eu" in report
        assert world.syncer("apply", "--yes", "--env", "production-eu").code == 0
        assert world.live("production-eu", "depression-screening")["revision"] == revision
        assert world.live("production-eu", "depression-screening")["annotations"] == {}


def test_orphaned_flow_is_reported_never_deleted(world: Landscape) -> None:
    promote(world)
    repo = world.git()
    repo.git.rm("-r", "flows/depression-screening")
    repo.git.commit("-m", "retire depression screening")
    code, plans = read_plans(world, "--env", "production-eu")
    assert code == 3 and plans["production-eu"]["depression-screening"]["status"] == "orphaned"
    world.syncer("apply", "--yes", "--env", "production-eu")
    keys = {s["key"] for s in world.client("production-eu").list_flows()}
    assert "depression-screening" in keys


def test_invalid_flow_anywhere_stops_apply_before_first_write(world: Landscape) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    path = world.repo / "flows" / "depression-screening" / "flow.yaml"
    path.write_text(
        path.read_text("utf-8").replace("kind: CareFlow", "kind: CareFlow\nbogus: 1"), "utf-8"
    )
    result = world.syncer("apply", "--yes")
    assert result.code == 1
    assert "flows/depression-screening/flow.yaml" in result.err
    for env in ("production-eu", "production-us"):
        assert world.client(env).list_flows() == []


def test_saved_plan_applies_exactly_itself_and_refuses_stale(
    world: Landscape, tmp_path: Path
) -> None:
    promote(world)
    world.edit("sandbox", BP, retitle("New title from Git"))
    world.syncer("export", "--env", "sandbox", "--commit")
    planfile = tmp_path / "plan.json"
    assert world.syncer("plan", "--out", str(planfile)).code == 2
    world.edit("production-eu", BP, retitle("hotfix between plan and apply"), hotfix=True)
    result = world.syncer("apply", "--yes", str(planfile))
    assert result.code == 1 and "stale" in result.err
    assert (
        first_step_title(world.live("production-eu", BP)["definition"])
        == "hotfix between plan and apply"
    )
    assert first_step_title(world.live("production-us", BP)["definition"]) != "New title from Git"


def test_direction_is_enforced(world: Landscape) -> None:
    result = world.syncer("plan", "--env", "sandbox")
    assert result.code == 1 and "source" in result.err
    result = world.syncer("export", "--env", "production-eu")
    assert result.code == 1 and "target" in result.err


def test_ignored_paths_are_not_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .landscape import ENVIRONMENTS

    envs = {k: dict(v) for k, v in ENVIRONMENTS.items() if k != "production-us"}
    envs["production-eu"]["ignore"] = ["spec.settings.reminders"]
    with landscape(tmp_path, monkeypatch, envs) as world:
        world.seed("sandbox", example_flow(BP))
        promote(world)

        def reminders(definition: dict[str, Any]) -> None:
            definition["spec"].setdefault("settings", {})["reminders"] = {
                "amount": 3,
                "delay": {"amount": 2, "unit": "day"},
            }

        world.edit("production-eu", BP, reminders, hotfix=True)
        code, plans = read_plans(world)
        assert plans["production-eu"][BP]["status"] == "in_sync" and code == 0


def test_canary_secret_never_leaves_the_tenants(world: Landscape, tmp_path: Path) -> None:
    promote(world)
    world.edit("production-eu", BP, retitle("hotfix"), hotfix=True)
    planfile = tmp_path / "plan.json"
    world.syncer("plan", "--out", str(planfile))
    for output in ("text", "json", "markdown"):
        world.syncer("plan", "--output", output)
    world.syncer("apply", "--yes", "--log-format", "json")  # the log channel too
    world.syncer("reconcile", "--log-format", "text")
    world.syncer("report", "--output", "markdown", "--out", str(tmp_path / "report.md"))
    everything = "\n".join(world.outputs)
    assert '"event": "flow.skipped"' in everything  # the drifted flow, logged as an event
    everything += planfile.read_text("utf-8") + (tmp_path / "report.md").read_text("utf-8")
    everything += world.git().git.log("-p", "--all")
    for path in world.repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            everything += path.read_text("utf-8", errors="replace")
    assert CANARY not in everything
    assert ENV_CANARY not in everything


def test_plan_json_follows_the_plan_schema(world: Landscape) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text())
    promote(world)
    world.edit("production-eu", BP, retitle("hotfix"), hotfix=True)
    for argv in (("plan", "--output", "json"), ("report", "--output", "json")):
        data = json.loads(world.syncer(*argv).out)
        errors = list(Draft202012Validator(schema).iter_errors(data))
        assert errors == [], errors[0].message
    single = json.loads(world.syncer("plan", "--output", "json", "--env", "production-eu").out)
    assert isinstance(single, dict) and single["environment"] == "production-eu"
