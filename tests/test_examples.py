"""The shipped example repository (flows/, environments/) and the synthetic flow generator (bench/).

The examples are what `make demo` and a new user see first, so they must be canonical, valid, and mean
what they say; the generator feeds the benchmarks and property tests, so it must be deterministic and
produce flows that pass the same checks as a real export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate_flow, generate_repo
from syncer import canonical, model, validate, yamlio

ROOT = Path(__file__).resolve().parents[1]
FLOW_FILES = sorted((ROOT / "flows").glob("*/flow.yaml"))
ENVIRONMENT_FILES = sorted((ROOT / "environments").glob("*.yaml"))
EXAMPLE_KEYS = {"post-op-knee-recovery", "remote-bp-monitoring", "depression-screening"}
AWELL_ID = re.compile(r"^[A-Za-z0-9_-]{12}$")


def _load(path: Path) -> yamlio.Document:
    return yamlio.load_file(path, str(path.relative_to(ROOT)))


def _flow(key: str) -> dict[str, Any]:
    data: dict[str, Any] = _load(ROOT / "flows" / key / "flow.yaml").data
    return data


def _is_canonical(text: str, header: str) -> bool:
    data = yamlio.load_text(text, "<text>").data
    return yamlio.dump(canonical.canonicalize(data), header) == text


def _reachable_steps(track: dict[str, Any]) -> set[str]:
    """Step ids reachable from the track start, following transitions (independent of validate)."""
    edges: dict[str, list[str]] = {}
    for transition in track["transitions"]:
        edges.setdefault(transition["origin"]["node_id"], []).append(
            transition["destination"]["node_id"]
        )
    seen: set[str] = set()
    todo = [track["id"]]
    while todo:
        for node in edges.get(todo.pop(), []):
            if node not in seen and node != track["id"]:
                seen.add(node)
                todo.append(node)
    return seen


def _concealed_items(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for ref, item in model.iter_value_items(data):
        if item.get("concealed"):
            yield ref, item


# --- example flows ----------------------------------------------------------------------------------


def test_the_three_examples_are_shipped() -> None:
    assert {path.parent.name for path in FLOW_FILES} >= EXAMPLE_KEYS


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.parent.name)
def test_example_flow_is_canonical(path: Path) -> None:
    text = path.read_text("utf-8")
    assert text.startswith(model.flow_file_header() + "\n")
    assert _is_canonical(text, model.flow_file_header())


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.parent.name)
def test_example_flow_is_valid(path: Path) -> None:
    doc = _load(path)
    warnings: list[Any] = []
    assert validate.check_flow(doc, path.parent.name, warnings) == []
    assert warnings == []
    assert doc.data["metadata"]["key"] == path.parent.name
    assert AWELL_ID.match(doc.data["metadata"]["definition_id"])


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.parent.name)
def test_example_flow_steps_are_reachable_and_laid_out(path: Path) -> None:
    data = _load(path).data
    for track in data["spec"]["tracks"]:
        assert {step["id"] for step in track["steps"]} <= _reachable_steps(track), track["key"]
        assert track["id"] in data["layout"]["tracks"]
        for step in track["steps"]:
            assert step["id"] in data["layout"]["steps"], step["key"]


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.parent.name)
def test_example_flow_never_holds_a_concealed_value(path: Path) -> None:
    data = _load(path).data
    for ref, item in _concealed_items(data):
        assert "value" not in item, ref
        assert "has_value" not in item, ref


def test_example_definition_ids_are_distinct() -> None:
    ids = [_load(path).data["metadata"]["definition_id"] for path in FLOW_FILES]
    assert len(ids) == len(set(ids))


def test_knee_flow_has_escalation_tracks_timers_and_three_stakeholders() -> None:
    spec = _flow("post-op-knee-recovery")["spec"]
    assert len(spec["tracks"]) >= 3
    roles = {s["clinical_app_role"] for s in spec["stakeholders"]}
    assert roles == {"Patient", "Physician", "Nurse"}
    trigger_types = {t["settings"]["type"] for t in spec["triggers"]}
    assert {"pathway_started", "data_point_collected", "data_point_not_collected"} <= trigger_types
    assert any("timer" in t for t in spec["triggers"])
    delays = {(t["delay"]["amount"], t["delay"]["unit"]) for t in spec["timings"]}
    assert (3, "day") in delays
    operand_values = {
        (c["operator"], (c["operand"] or {}).get("value"))
        for rule in spec["rules"]
        for c in rule["conditions"]
    }
    assert ("is_greater_than_or_equal_to", "7") in operand_values


def test_bp_flow_uses_constants_in_api_calls_and_an_mrn_identifier() -> None:
    spec = _flow("remote-bp-monitoring")["spec"]
    constants = {c["key"]: c for c in spec["settings"]["constants"]}
    assert constants["EHR_API_KEY"].get("concealed") is True
    assert constants["EHR_BASE_URL"]["value"].startswith("https://")
    assert constants["ALERT_THRESHOLD_SYSTOLIC"]["value"] == "140"
    elation = spec["settings"]["extensions"]["elation"]
    assert elation["client_secret"] == {**elation["client_secret"], "concealed": True}
    assert "value" in elation["base_url"]
    calls = [
        action["api_call"]
        for track in spec["tracks"]
        for step in track["steps"]
        for action in step["actions"]
        if action["type"] == "api_call"
    ]
    assert calls
    for call in calls:
        assert call["endpoint"].startswith("{{constants.EHR_BASE_URL}}/")
        assert {"key": "Authorization", "value": "Bearer {{constants.EHR_API_KEY}}"} in call[
            "headers"
        ]
    systems = [
        entry["value"]
        for dp in spec["data_point_definitions"]
        if dp["category"] == "patient_identifier"
        for entry in dp.get("metadata", [])
        if entry["key"] == "system"
    ]
    assert systems == ["https://awellhealth.com/identifiers/mrn"]


def test_depression_flow_scores_phq9_and_writes_messages_as_blocks() -> None:
    path = ROOT / "flows" / "depression-screening" / "flow.yaml"
    spec = _load(path).data["spec"]
    phq9 = next(form for form in spec["forms"] if form["key"] == "phq9")
    keys = [q["key"] for q in phq9["questions"]]
    assert keys[:9] == [f"PHQ9_Q0{n}" for n in range(1, 10)]
    assert [o["value"] for o in phq9["questions"][0]["options"]] == ["0", "1", "2", "3"]
    dps = {dp["id"] for dp in spec["data_point_definitions"]}
    assert "phq_9.PHQ9_SCORE" in dps
    assert any(c["reference"] == "phq_9.PHQ9_SCORE" for r in spec["rules"] for c in r["conditions"])
    dynamic = {v["id"] for v in spec["dynamic_variables"]}
    bodies = "\n".join(m["html_body"] for m in spec["messages"])
    assert any(f"{{{{{{dynamic_variable:{d}}}}}}}" in bodies for d in dynamic)
    assert spec["clinical_notes"]
    assert "    html_body: |" in path.read_text("utf-8")


# --- environments -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENVIRONMENT_FILES, ids=lambda p: p.stem)
def test_environment_loads_and_is_valid(path: Path) -> None:
    assert path.read_text("utf-8").startswith(model.ENVIRONMENT_HEADER + "\n")
    doc = _load(path)
    assert validate.check_environment(doc, path.stem) == []
    environment = validate.parse_environment(doc.data, doc.path)
    assert environment.name == path.stem


def test_environment_roles_and_selection() -> None:
    environments = {
        path.stem: validate.parse_environment(_load(path).data, path.name)
        for path in ENVIRONMENT_FILES
    }
    assert set(environments) >= {"sandbox", "production-eu", "production-us"}
    assert environments["sandbox"].role is model.Role.SOURCE
    assert environments["production-eu"].role is model.Role.TARGET
    assert environments["production-us"].role is model.Role.TARGET
    assert environments["production-eu"].selects("depression-screening")
    assert not environments["production-us"].selects("depression-screening")
    assert environments["production-us"].selects("remote-bp-monitoring")


def test_example_repository_validates_as_a_whole() -> None:
    result = validate.check_repository(ROOT)
    assert result.problems == []
    assert result.warnings == []
    assert result.flows >= 3
    assert result.environments >= 3


# --- the generator ----------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [10, 50, 500])
def test_generated_flow_is_valid_canonical_and_reachable(steps: int) -> None:
    document = generate_flow(7, steps)
    assert canonical.canonicalize(document) == document
    text = yamlio.dump(document, model.flow_file_header())
    assert _is_canonical(text, model.flow_file_header())
    doc = yamlio.load_text(text, f"flows/{document['metadata']['key']}/flow.yaml")
    assert doc.data == document
    warnings: list[Any] = []
    assert validate.check_flow(doc, document["metadata"]["key"], warnings) == []
    assert warnings == []
    tracks = document["spec"]["tracks"]
    assert sum(len(track["steps"]) for track in tracks) == steps
    for track in tracks:
        if steps >= 20:
            assert 10 <= len(track["steps"]) <= 50
        assert {step["id"] for step in track["steps"]} <= _reachable_steps(track)
        for step in track["steps"]:
            assert 1 <= len(step["actions"]) <= 4


def test_generated_flow_is_deterministic() -> None:
    assert generate_flow(3, 50) == generate_flow(3, 50)
    assert generate_flow(3, 50, key="intake") == generate_flow(3, 50, key="intake")
    assert generate_flow(3, 50) != generate_flow(4, 50)


def test_generated_flow_has_varied_content_and_one_concealed_constant() -> None:
    spec = generate_flow(11, 200)["spec"]
    types = {a["type"] for t in spec["tracks"] for s in t["steps"] for a in s["actions"]}
    assert types >= {"form", "message", "checklist", "calculation", "api_call", "clinical_note"}
    constants = spec["settings"]["constants"]
    assert [c["key"] for c in constants if c.get("concealed")] == ["EHR_API_KEY"]
    assert all(model.CONSTANT_KEY_PATTERN.match(c["key"]) for c in constants)
    assert any(
        t.get("rule_definition_id") for track in spec["tracks"] for t in track["transitions"]
    )
    assert spec["forms"] and spec["messages"] and spec["rules"] and spec["timings"]


def test_generated_flow_refuses_a_bad_key_or_size() -> None:
    with pytest.raises(ValueError):
        generate_flow(1, 10, key="../escape")
    with pytest.raises(ValueError):
        generate_flow(1, 0)


def test_generate_repo_writes_a_valid_repository(tmp_path: Path) -> None:
    paths = generate_repo(tmp_path, count=3, steps=20, seed=5)
    assert [p.parent.name for p in paths] == [f"synthetic-5-000{i}" for i in range(3)]
    for path in paths:
        assert _is_canonical(path.read_text("utf-8"), model.flow_file_header())
    result = validate.check_repository(tmp_path)
    assert result.problems == []
    assert result.flows == 3


@pytest.mark.slow
def test_largest_generated_flow_stays_under_the_file_limit() -> None:
    document = generate_flow(1, 2000)
    text = yamlio.dump(document, model.flow_file_header())
    assert len(text.encode("utf-8")) < yamlio.MAX_FILE_BYTES
    doc = yamlio.load_text(text, f"flows/{document['metadata']['key']}/flow.yaml")
    assert validate.check_flow(doc, document["metadata"]["key"]) == []
