"""The three-way model as pure functions: every status, every constants decision, and properties."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from syncer import report
from syncer.canonical import content_hash
from syncer.model import (
    ANN_LAST_APPLIED_HASH,
    Decision,
    Environment,
    EnvironmentPlan,
    Role,
    Status,
    iter_value_items,
)
from syncer.plan import (
    annotations_after,
    classify,
    desired_for,
    quick_in_sync,
    write_body,
)
from syncer.plan.diff import diff
from tests.conftest import tenant_view
from tests.e2e.landscape import example_flow
from tests.strategies import careflows

CANARY = "CANARY-plan-0b7e"
ENV = Environment(
    name="production-eu",
    role=Role.TARGET,
    region="eu",
    url="http://127.0.0.1:1",
    api_key_env="KEY",
    flows=None,
    constants={"EHR_BASE_URL": "https://ehr.eu.example.org"},
    secrets={"EHR_API_KEY": "PROD_EU_EHR_API_KEY"},
)


def _no_secret(_variable: str) -> bool:
    return False


def _applied(flow: dict[str, Any], env: Environment = ENV) -> dict[str, Any]:
    """The live flow right after syncer created it (what the tenant would answer)."""
    desired = desired_for(flow, env)
    plan = classify("k", desired, None, env, _no_secret)
    body = write_body(plan, env, lambda _v: None)
    annotations = annotations_after(plan, git_commit="c1", actor="ci", now="t", revision=1)
    return {
        "definition_id": flow["metadata"]["definition_id"],
        "revision": 1,
        "definition": tenant_view(body),
        "annotations": annotations,
        "content_hash": content_hash(tenant_view(body)),
    }


def _retitle(document: dict[str, Any], title: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["spec"]["tracks"][0]["steps"][0]["title"] = title
    return changed


@pytest.fixture
def flow() -> dict[str, Any]:
    return example_flow("remote-bp-monitoring")


def test_every_status(flow: dict[str, Any]) -> None:
    desired = desired_for(flow, ENV)
    live = _applied(flow)
    assert classify("k", desired, None, ENV, _no_secret).status is Status.CREATE
    assert classify("k", desired, live, ENV, _no_secret).status is Status.IN_SYNC

    git_changed = desired_for(_retitle(flow, "new in Git"), ENV)
    assert classify("k", git_changed, live, ENV, _no_secret).status is Status.UPDATE

    hotfixed = copy.deepcopy(live)
    hotfixed["definition"] = _retitle(live["definition"], "hotfix")
    drift = classify("k", desired, hotfixed, ENV, _no_secret)
    assert drift.status is Status.DRIFT
    assert [c.description for c in drift.changes if c.field == "title"]
    assert classify("k", git_changed, hotfixed, ENV, _no_secret).status is Status.CONFLICT
    same_fix = desired_for(_retitle(flow, "hotfix"), ENV)
    assert classify("k", same_fix, hotfixed, ENV, _no_secret).status is Status.IN_SYNC

    stranger = copy.deepcopy(hotfixed)
    stranger["annotations"] = {}
    assert classify("k", desired, stranger, ENV, _no_secret).status is Status.UNMANAGED
    assert classify("k", None, live, ENV, _no_secret).status is Status.ORPHANED


def test_layout_only_change_is_cosmetic(flow: dict[str, Any]) -> None:
    live = _applied(flow)
    moved = copy.deepcopy(flow)
    step_id = next(iter(moved["layout"]["steps"]))
    moved["layout"]["steps"][step_id] = {"x": 1, "y": 2}
    plan = classify("k", desired_for(moved, ENV), live, ENV, _no_secret)
    assert plan.status is Status.UPDATE and plan.cosmetic_only
    assert [c.cosmetic for c in plan.changes] == [True]


def test_constants_decisions(flow: dict[str, Any]) -> None:
    live = _applied(flow)
    items = dict(iter_value_items(live["definition"]))
    items["ALERT_THRESHOLD_SYSTOLIC"]["value"] = "135"  # set in the destination
    items["EHR_API_KEY"]["has_value"] = False
    plan = classify("k", desired_for(flow, ENV), live, ENV, lambda v: v == "PROD_EU_EHR_API_KEY")
    decisions = {d.key: d for d in plan.constants}
    assert decisions["ALERT_THRESHOLD_SYSTOLIC"].decision is Decision.KEEP_DESTINATION
    assert decisions["EHR_BASE_URL"].decision is Decision.SET_FROM_ENVIRONMENT
    assert decisions["EHR_API_KEY"].decision is Decision.SET_FROM_SECRET
    assert plan.status is Status.UPDATE  # only a secret to fill: a value write, not drift
    body = write_body(plan, ENV, lambda v: CANARY)
    written = dict(iter_value_items(body))
    assert written["EHR_API_KEY"]["value"] == CANARY  # sent to the tenant, and nowhere else
    assert written["ALERT_THRESHOLD_SYSTOLIC"]["value"] == "135"
    assert CANARY not in json.dumps(plan.to_json())
    no_source = classify("k", desired_for(flow, ENV), live, ENV, _no_secret)
    assert {d.key: d.decision for d in no_source.constants}["EHR_API_KEY"] is Decision.BLANK


def test_kept_destination_value_survives_later_git_changes(flow: dict[str, Any]) -> None:
    live = _applied(flow)
    dict(iter_value_items(live["definition"]))["ALERT_THRESHOLD_SYSTOLIC"]["value"] = "135"
    plan = classify("k", desired_for(flow, ENV), live, ENV, _no_secret)
    after = annotations_after(plan, git_commit="c2", actor="ci", now="t", revision=2)
    assert after == {**after, "syncer.io/value.ALERT_THRESHOLD_SYSTOLIC": '"140"'}  # the old record


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(careflows())
def test_plan_of_x_x_x_is_empty_and_quick(document: dict[str, Any]) -> None:
    assert diff(document, document) == []
    desired = desired_for(document, ENV)
    live = _applied(document)
    plan = classify("k", desired, live, ENV, _no_secret)
    assert plan.status is Status.IN_SYNC and plan.changes == []
    summary = {k: v for k, v in live.items() if k != "definition"}
    assert quick_in_sync(desired, summary, ENV)
    assert live["annotations"][ANN_LAST_APPLIED_HASH] == plan.desired_hash


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(careflows())
def test_no_concealed_value_reaches_any_rendering(document: dict[str, Any]) -> None:
    planted = copy.deepcopy(document)
    for _ref, item in iter_value_items(planted):
        if item.get("concealed"):
            item["value"] = CANARY  # even if one slipped into a document, it must go no further
    live = _applied(document)
    plan = classify("k", desired_for(planted, ENV), live, ENV, _no_secret)
    env_plan = EnvironmentPlan("production-eu", "c1", [plan])
    outputs = [
        json.dumps(env_plan.to_json()),
        report.render_markdown([env_plan]),
        report.render_text([env_plan]),
        report.render_json([env_plan]),
    ]
    assert not any(CANARY in text for text in outputs)
