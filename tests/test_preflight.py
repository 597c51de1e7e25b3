"""The pure go-live checks (syncer.preflight) and the pure helpers of publish and ids."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer import yamlio
from syncer.golive.checks import (
    FlowFacts,
    api_endpoints,
    checklist,
    concealed_checks,
    endpoint_from_constant,
    environment_values,
    identifier_systems,
    identifiers_used,
    plan_status,
    published,
    sandbox_hint,
    validation,
)
from syncer.golive.ids import data_point_ids, flow_ids
from syncer.golive.items import Level
from syncer.golive.publish import publication_notes
from syncer.model import Environment, FlowPlan, LiveEdit, Role, Status, iter_value_items
from syncer.report.ids import env_name

PROJECT = Path(__file__).resolve().parents[1]
MRN = "https://awellhealth.com/identifiers/mrn"
FlowMaker = Callable[..., dict[str, Any]]


def _env(**overrides: Any) -> Environment:
    fields: dict[str, Any] = {
        "name": "production-eu",
        "role": Role.TARGET,
        "region": "eu",
        "url": "http://127.0.0.1:1",
        "api_key_env": "KEY",
        "flows": None,
    }
    fields.update(overrides)
    return Environment(**fields)


def _bp() -> dict[str, Any]:
    data: dict[str, Any] = yamlio.load_file(PROJECT / "flows/remote-bp-monitoring/flow.yaml").data
    return data


def _plan(status: Status = Status.IN_SYNC, **kw: Any) -> FlowPlan:
    return FlowPlan("intake", "flow-intake", "Intake", status, live_revision=3, **kw)


def _live(definition: dict[str, Any], **summary: Any) -> dict[str, Any]:
    body = {"revision": 3, "content_hash": "h3", "latest_published": None, "annotations": {}}
    body.update(summary, definition=definition)
    return body


def _mrn(system: str) -> list[dict[str, str]]:
    return [{"name": "MRN", "display_name": "MRN", "system": system}]


def _facts(definition: dict[str, Any] | None, **kw: Any) -> FlowFacts:
    fields: dict[str, Any] = {
        "env": _env(),
        "plan": _plan(),
        "live": _live(definition) if definition is not None else None,
        "git": definition,
        "destination_systems": [],
        "source_name": "sandbox",
        "source_systems": [],
    }
    fields.update(kw)
    return FlowFacts(**fields)


def _levels(items: list[Any]) -> dict[str, Level]:
    return {item.subject: item.level for item in items}


# -- values that look like Sandbox's --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("https://ehr.sandbox.example.org", "sandbox"),
        ("https://STAGING.example.org", "staging"),
        ("https://development.example.org", "development"),
        ("http://localhost:8080", "localhost"),
        ("http://10.1.2.3/api", "10.1.2.3"),
        ("http://192.168.0.12", "192.168.0.12"),
        ("http://172.20.1.1:443", "172.20.1.1"),
        ("http://127.0.0.1:8402", "loopback"),
        ("http://[::1]:80", "::1"),
    ],
)
def test_sandbox_like_values(value: str, why: str) -> None:
    hint = sandbox_hint(value)
    assert hint is not None and why in hint


@pytest.mark.parametrize(
    "value",
    ["https://ehr.eu.example.org", "http://172.32.0.1", "http://8.8.8.8", "140", "v10.1.2.3.4"],
)
def test_production_like_values(value: str) -> None:
    assert sandbox_hint(value) is None


def test_environment_values() -> None:
    flow = _bp()
    sandbox = copy.deepcopy(flow)
    # Live production: threshold equal to Sandbox's, base URL from the environment file.
    live = copy.deepcopy(flow)
    for ref, item in iter_value_items(live):
        if ref == "EHR_BASE_URL":
            item["value"] = "https://ehr.eu.example.org"
    items = environment_values(live, _env(), "sandbox", sandbox)
    levels = _levels(items)
    assert levels["EHR_BASE_URL"] is Level.PASS
    assert levels["ALERT_THRESHOLD_SYSTOLIC"] is Level.WARN  # the same as in sandbox
    assert levels["elation.base_url"] is Level.WARN  # still the Sandbox URL
    assert "EHR_API_KEY" not in levels  # concealed items are not values to compare

    deliberate = _env(constants={"ALERT_THRESHOLD_SYSTOLIC": "140"})
    levels = _levels(environment_values(live, deliberate, "sandbox", sandbox))
    assert levels["ALERT_THRESHOLD_SYSTOLIC"] is Level.PASS  # named in the environment file


def test_blank_visible_value_warns(make_flow: FlowMaker) -> None:
    flow = make_flow()
    flow["spec"]["settings"]["constants"][0]["value"] = ""
    [item] = [
        i for i in environment_values(flow, _env(), None, None) if i.subject == "EHR_BASE_URL"
    ]
    assert item.level is Level.WARN and "blank" in item.message


# -- concealed values -----------------------------------------------------------------------------


def test_blank_concealed_values_block(make_flow: FlowMaker) -> None:
    flow = make_flow()
    for _ref, item in iter_value_items(flow):
        if item.get("concealed"):
            item["has_value"] = _ref == "EHR_API_KEY"
    items = concealed_checks(flow, _env(secrets={"elation.client_secret": "ELATION_SECRET"}))
    levels = _levels(items)
    assert levels == {"EHR_API_KEY": Level.PASS, "elation.client_secret": Level.BLOCK}
    blocked = next(i for i in items if i.level is Level.BLOCK)
    assert "$ELATION_SECRET" in blocked.fix  # the environment names a source: say which one


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, alphabet=st.characters(exclude_categories=["Cs"])))
def test_concealed_value_never_appears_in_any_item(tail: str) -> None:
    secret = f"CANARY-{tail}"
    flow = _bp()
    for _ref, item in iter_value_items(flow):
        if item.get("concealed"):
            item["value"] = secret  # a tenant must never send this; if one did, it stays unread
            item["has_value"] = False
    report = checklist(_facts(flow, source_live=_live(copy.deepcopy(flow))))
    assert secret not in json.dumps(report.to_json(), ensure_ascii=False)
    assert secret not in publication_notes(report, "abc", "ci-bot", forced=True)


# -- identifier systems ---------------------------------------------------------------------------


def test_identifiers_used_reads_patient_identifier_data_points() -> None:
    assert identifiers_used(_bp()) == {"MRN": MRN}
    assert identifiers_used(None) == {}


def test_mismatch_names_both_sides() -> None:
    facts = _facts(_bp(), destination_systems=_mrn("https://b"), source_systems=_mrn("https://a"))
    [item] = identifier_systems(facts, _bp())
    assert item.level is Level.BLOCK
    assert "MRN is https://a in sandbox but https://b in production-eu" in item.message
    assert f"MRN is {MRN} in the flow's data point but https://b" in item.message


def test_mismatch_groups_sides_that_agree() -> None:
    env = _env(identifier_systems=({"name": "MRN", "system": MRN},))
    facts = _facts(_bp(), env=env, destination_systems=_mrn("https://b"), source_systems=_mrn(MRN))
    [item] = identifier_systems(facts, _bp())
    also = "(the flow's data point and environments/production-eu.yaml say the same)"
    assert item.message == f"MRN is {MRN} in sandbox but https://b in production-eu {also}"


def test_missing_identifier_system() -> None:
    facts = _facts(_bp(), destination_systems=[], source_systems=_mrn(MRN))
    [item] = identifier_systems(facts, _bp())
    assert item.level is Level.BLOCK and "does not exist in production-eu" in item.message
    assert MRN in item.fix


def test_identifier_system_missing_in_source_warns_and_equal_passes() -> None:
    facts = _facts(_bp(), destination_systems=_mrn(MRN), source_systems=[])
    items = identifier_systems(facts, _bp())
    assert [i.level for i in items] == [Level.PASS, Level.WARN]
    assert "does not exist in sandbox" in items[1].message


def test_environment_file_systems_are_checked_even_when_the_flow_uses_none(
    make_flow: FlowMaker,
) -> None:
    env = _env(identifier_systems=({"name": "NHS", "system": "https://nhs"},))
    facts = _facts(make_flow(), env=env, source_systems=None, destination_systems=[])
    [item] = identifier_systems(facts, make_flow())
    assert item.subject == "NHS" and item.level is Level.BLOCK


# -- API calls, status, publishing, validation ----------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "ok"),
    [
        ("{{constants.EHR_BASE_URL}}/fhir/Patient?identifier=https://x|{{data_point:a}}", True),
        ("{{ constants.EHR_BASE_URL }}/x", True),
        ("https://{{constants.EHR_HOST}}/fhir", True),
        ("https://ehr.example.org/{{constants.PATH}}", False),
        ("https://ehr.example.org/fhir", False),
        ("", False),
    ],
)
def test_endpoint_from_constant(endpoint: str, ok: bool) -> None:
    assert endpoint_from_constant(endpoint) is ok


def test_hard_coded_endpoint_warns() -> None:
    flow = _bp()
    assert {i.level for i in api_endpoints(flow)} == {Level.PASS}
    for track in flow["spec"]["tracks"]:
        for step in track["steps"]:
            for action in step.get("actions") or []:
                if action["type"] == "api_call":
                    action["api_call"]["endpoint"] = "https://ehr.example.org/fhir"
    items = api_endpoints(flow)
    assert items and {i.level for i in items} == {Level.WARN}
    assert "{{constants.KEY}}" in items[0].fix


@pytest.mark.parametrize(
    ("status", "level"),
    [
        (Status.IN_SYNC, Level.PASS),
        (Status.CREATE, Level.BLOCK),
        (Status.UPDATE, Level.BLOCK),
        (Status.DRIFT, Level.BLOCK),
        (Status.CONFLICT, Level.BLOCK),
        (Status.UNMANAGED, Level.BLOCK),
        (Status.ORPHANED, Level.WARN),
    ],
)
def test_plan_status_levels(status: Status, level: Level) -> None:
    item = plan_status(_plan(status), _env())
    assert item.level is level
    if level is not Level.PASS:
        assert item.fix and status.value in item.message


def test_drift_names_who_edited() -> None:
    plan = _plan(Status.DRIFT, live_edits=[LiveEdit(4, "dr.jansen", "2024-01-01", True)])
    item = plan_status(plan, _env())
    assert "dr.jansen" in item.message and "syncer backport" in item.fix


def test_published() -> None:
    never = published(_live({}), "production-eu", "intake")
    assert never.level is Level.WARN and "never published" in never.message
    latest = {"version": 2, "release_id": "r2", "revision": 3, "content_hash": "h3"}
    same = published(_live({}, latest_published=latest), "production-eu", "intake")
    assert same.level is Level.PASS and "r2" in same.message
    moved = published(_live({}, content_hash="h4", revision=4, latest_published=latest), "e", "k")
    assert moved.level is Level.WARN and "not published" in moved.message
    no_hash = {"version": 1, "release_id": "r1", "revision": 3}
    assert published(_live({}, latest_published=no_hash), "e", "k").level is Level.PASS


def test_validation_of_the_working_version(make_flow: FlowMaker) -> None:
    assert [i.level for i in validation(make_flow(), "intake", "production-eu")] == [Level.PASS]
    broken = make_flow()
    broken["spec"]["tracks"][0]["transitions"][0]["destination"]["node_id"] = "stp-nowhere"
    item = validation(broken, "intake", "production-eu")[0]
    assert item.level is Level.BLOCK and "stp-nowhere" in item.message


def test_a_draft_is_a_go_live_warning_never_a_blocker(make_flow: FlowMaker) -> None:
    """SPEC 3: an unreachable step or an empty track is listed before go-live, with its place."""
    draft = make_flow()
    draft["spec"]["tracks"][0]["steps"].append(
        {
            "id": "stp-later",
            "key": "later",
            "title": "Later",
            "label_definition_ids": [],
            "actions": [],
        }
    )
    draft["spec"]["tracks"].append(
        {"id": "trk-empty", "key": "empty", "title": "Empty", "steps": [], "transitions": []}
    )
    items = validation(draft, "intake", "production-eu")
    assert [(i.check, i.level) for i in items] == [
        ("validation", Level.PASS),
        ("draft", Level.WARN),
    ]
    assert "step `later` cannot be reached" in items[1].message
    assert "track `empty` has no steps yet" in items[1].message
    assert "production-eu:intake (working version):" in items[1].message  # with its location


def test_checklist_of_an_absent_flow_blocks_on_status_only(make_flow: FlowMaker) -> None:
    report = checklist(_facts(None, plan=_plan(Status.CREATE), git=make_flow()))
    assert [i.check for i in report.items] == ["plan_status"]
    assert report.level is Level.BLOCK and [i.name for i in report.blocking()] == [
        "plan status intake"
    ]


def test_source_not_consulted_is_a_warning(make_flow: FlowMaker) -> None:
    facts = _facts(make_flow(), source_systems=None, source_note="sandbox was not consulted")
    report = checklist(facts)
    [item] = [i for i in report.items if i.check == "source"]
    assert item.level is Level.WARN and item.name == "source environment sandbox"


# -- publish notes and ids ------------------------------------------------------------------------


def test_publication_notes(make_flow: FlowMaker) -> None:
    flow = make_flow()
    for _ref, item in iter_value_items(flow):
        item["has_value"] = False
    report = checklist(_facts(flow))
    report.applied_commit = "abc123"
    notes = publication_notes(report, "def456", "ci-bot", forced=True)
    assert "git-commit: abc123" in notes and "repository-commit: def456" in notes
    assert "actor: ci-bot" in notes and "forced: yes" in notes
    assert "concealed value EHR_API_KEY" in notes and "preflight: 2 block" in notes


def test_data_point_ids_never_share_a_name() -> None:
    points = [
        {"id": "a", "key": "MRN", "qualified_key": "MRN"},
        {"id": "b", "key": "", "qualified_key": "phq9.Q1"},
        {"id": "c", "key": "ActivationDate", "qualified_key": "intake.ActivationDate"},
        {"id": "d", "key": "ActivationDate", "qualified_key": "review.ActivationDate"},
        {"id": "e", "key": "", "qualified_key": ""},
    ]
    assert data_point_ids(points) == {
        "MRN": "a",
        "phq9.Q1": "b",
        "intake.ActivationDate": "c",
        "review.ActivationDate": "d",
        "e": "e",
    }


def test_flow_ids_and_env_names() -> None:
    latest = {"version": 1, "release_id": "rel-1"}
    ids = flow_ids("remote-bp-monitoring", _bp(), {"revision": 4, "latest_published": latest}, "x")
    assert ids["release_id"] == "rel-1" and ids["forms"]["homeBpReading"]["id"] == "gRjK60PRjss7"
    assert flow_ids("k", _bp(), None, "git")["release_id"] is None
    name = env_name("SYNCER", "production-eu", "remote-bp-monitoring", "FORM", "homeBpReading")
    assert name == "SYNCER_PRODUCTION_EU_REMOTE_BP_MONITORING_FORM_HOME_BP_READING"
    assert env_name("phq_9.PHQ9_SCORE") == "PHQ_9_PHQ9_SCORE"
    assert env_name("9lives") == "_9LIVES"
