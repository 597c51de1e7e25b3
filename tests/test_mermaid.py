"""Mermaid flowcharts: structure, colours, rules in words, and escaping of anything a user typed."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from syncer.model import Change, Component, FlowPlan, Status
from syncer.report.mermaid import (
    changed_track_ids,
    flow_diagrams,
    label,
    node_id,
    rule_words,
    track_flowchart,
)

POINTS = {
    "dp1": {"id": "dp1", "key": "PHQ9_SCORE", "qualified_key": "phq9.PHQ9_SCORE"},
    "dp2": {"id": "dp2", "key": "", "qualified_key": "consent.AGREED"},
}


def _rule(rule_id: str, *conditions: tuple[str, str, Any], operator: str = "and") -> dict[str, Any]:
    return {
        "id": rule_id,
        "boolean_operator": operator,
        "conditions": [
            {"id": f"{rule_id}{n}", "reference": ref, "operator": op, "operand": operand}
            for n, (ref, op, operand) in enumerate(conditions)
        ],
    }


RULES = {
    "r_high": _rule(
        "r_high", ("dp1", "is_greater_than_or_equal_to", {"type": "number", "value": "10"})
    ),
    "r_low": _rule("r_low", ("dp1", "is_less_than", {"type": "number", "value": "10"})),
}


def _step(step_id: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "key": step_id.lower(), "title": title, "actions": [], **extra}


def _edge(edge_id: str, origin: str, destination: str, rule: str | None = None) -> dict[str, Any]:
    start = (
        {"type": "track_start", "node_id": "T1"}
        if origin == "start"
        else {"type": "step", "node_id": origin}
    )
    end = (
        {"type": "track_end", "node_id": "T1"}
        if destination == "end"
        else {"type": "step", "node_id": destination}
    )
    edge: dict[str, Any] = {"id": edge_id, "origin": start, "destination": end}
    if rule:
        edge["rule_definition_id"] = rule
    return edge


def _track(steps: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "T1", "key": "main", "title": "Main", "steps": steps, "transitions": edges}


OLD = _track(
    [_step("S1", "Intake"), _step("S2", "Triage"), _step("S9", "Paper form")],
    [
        _edge("E1", "start", "S1"),
        _edge("E2", "S1", "S9"),
        _edge("E3", "S9", "S2"),
        _edge("E4", "S2", "end"),
    ],
)
NEW = _track(
    [_step("S1", "Intake"), _step("S2", "Triage", documentation="new"), _step("S3", "Follow-up")],
    [
        _edge("E1", "start", "S1"),
        _edge("E5", "S1", "S2"),
        _edge("E6", "S2", "S3", "r_high"),
        _edge("E4", "S2", "end", "r_low"),
        _edge("E7", "S3", "end"),
    ],
)

_LINE = re.compile(
    r"\s*(flowchart TD|track_(start|end)\(\[(Start|End)\]\)|s_\w+\[L\]|\w+ -\.?->(\|L\|)? \w+"
    r"|classDef (added|changed|removed) .*|class [\w,]+ (added|changed|removed))"
)


def assert_well_formed(chart: str) -> None:
    """Every line is one of the shapes we emit; labels hold no character that could escape them."""
    for line in chart.splitlines():
        assert line.count('"') % 2 == 0, line
        for text in re.findall(r'"([^"]*)"', line):
            assert not re.search(r"[<>\[\]`;(){}|\\]", re.sub(r"#\w+;", "", text)), text
        assert _LINE.fullmatch(re.sub(r'"[^"]*"', "L", line)), line


def test_flowchart_of_a_changed_track() -> None:
    chart = track_flowchart(NEW, OLD, RULES, POINTS)
    assert_well_formed(chart)
    lines = chart.splitlines()
    assert lines[:3] == ["flowchart TD", "  track_start([Start])", "  track_end([End])"]
    assert '  s_S1["Intake"]' in lines
    assert '  s_S2["Triage #40;changed#41;"]' in lines
    assert '  s_S3["Follow-up #40;new#41;"]' in lines
    assert '  s_S9["Paper form #40;removed#41;"]' in lines  # drawn from the old side
    assert '  s_S2 -->|"PHQ9_SCORE ≥ 10"| s_S3' in lines
    assert '  s_S2 -->|"PHQ9_SCORE #lt; 10"| track_end' in lines
    assert "  s_S1 -.-> s_S9" in lines and "  s_S9 -.-> s_S2" in lines  # removed edges dotted
    assert "  class s_S3 added" in lines
    assert "  class s_S2 changed" in lines
    assert "  class s_S9 removed" in lines
    assert any(
        line.startswith("  classDef removed") and "stroke-dasharray" in line for line in lines
    )


def test_new_and_removed_tracks() -> None:
    created = track_flowchart(NEW, None, RULES, POINTS)
    assert "  class s_S1,s_S2,s_S3 added" in created
    removed = track_flowchart(None, OLD, RULES, POINTS)
    assert "  class s_S1,s_S2,s_S9 removed" in removed
    assert "  track_start -.-> s_S1" in removed


def test_rules_in_words() -> None:
    def words(*conditions: tuple[str, str, Any], operator: str = "and") -> str:
        return rule_words(_rule("r", *conditions, operator=operator), POINTS)

    assert (
        words(("dp1", "is_greater_than_or_equal_to", {"type": "number", "value": "10"}))
        == "PHQ9_SCORE ≥ 10"
    )
    assert words(("dp2", "is_true", None)) == "consent.AGREED is yes"
    assert words(("dp1", "is_not_empty", {"type": "number", "value": ""})) == "PHQ9_SCORE is filled"
    assert words(("phq9.PHQ9_SCORE", "is_less_than", {"value": 5})) == "PHQ9_SCORE < 5"
    assert words(("unknown.REF", "is_equal_to", {"value": "x"})) == "unknown.REF = x"
    assert words(("dp1", "some_new_operator", {"value": "1"})) == "PHQ9_SCORE some new operator 1"
    both = words(("dp1", "is_less_than", {"value": "5"}), ("dp2", "is_false", None), operator="or")
    assert both == "PHQ9_SCORE < 5 or consent.AGREED is no"
    many = words(*[("dp1", "is_equal_to", {"value": str(n)}) for n in range(5)])
    assert many.endswith("and 2 more")
    assert rule_words(None, POINTS) == ""


def test_default_and_timed_transitions() -> None:
    track = _track(
        [_step("S1", "A")],
        [{**_edge("E1", "start", "S1"), "default": True, "timing_definition_id": "t"}],
    )
    chart = track_flowchart(
        track, track, {}, {}, timings={"t": {"id": "t", "delay": {"amount": 2, "unit": "day"}}}
    )
    assert '  track_start -->|"otherwise, after 2 days"| s_S1' in chart
    for delay, words in (
        ({"amount": 4, "unit": "week"}, "after 4 weeks"),
        ({"amount": 1, "unit": "day"}, "after 1 day"),
        ({"amount": 0, "unit": "hour"}, "immediately"),
    ):
        timed = track_flowchart(track, track, {}, {}, timings={"t": {"id": "t", "delay": delay}})
        assert f'  track_start -->|"otherwise, {words}"| s_S1' in timed


def test_a_renamed_step_shows_old_and_new_title() -> None:
    old = _track([_step("S1", "Triage")], [_edge("E1", "start", "S1")])
    new = _track([_step("S1", "Triage (urgent)")], [_edge("E1", "start", "S1")])
    chart = track_flowchart(new, old, {}, {})
    assert_well_formed(chart)
    assert '  s_S1["Triage → Triage #40;urgent#41; #40;changed#41;"]' in chart
    kept = track_flowchart(new, {**old, "steps": [_step("S1", "Triage (urgent)", x=1)]}, {}, {})
    assert '  s_S1["Triage #40;urgent#41; #40;changed#41;"]' in kept  # same title: once


def test_node_ids_are_sanitised_and_unique() -> None:
    assert node_id('x"];evil[') == "s_x___evil_"
    track = _track(
        [_step("a-b", "One"), _step("a_b", "Two"), _step('x"]-->y', "Three"), _step("end", "Four")],
        [_edge("E1", "start", "a-b"), _edge("E2", "a-b", "a_b"), _edge("E3", "a_b", 'x"]-->y')],
    )
    chart = track_flowchart(track, track, {}, {})
    assert_well_formed(chart)
    assert '  s_a_b["One"]' in chart and '  s_a_b_2["Two"]' in chart
    assert '  s_x_____y["Three"]' in chart and '  s_end["Four"]' in chart
    assert "  s_a_b --> s_a_b_2" in chart and "  s_a_b_2 --> s_x_____y" in chart


def test_labels_escape_everything_and_are_short() -> None:
    assert label('A-->B["x"]; click') == '"A--#gt;B#91;#quot;x#quot;#93;#59; click"'
    assert label("<script>`x`</script>") == '"#lt;script#gt;#96;x#96;#lt;/script#gt;"'
    assert label("a\nb\r\nc\u202e") == '"a b c"'
    assert label("#quot;") == '"#35;quot#59;"'  # a typed entity stays text
    long = label("x" * 500)
    assert len(long) == 62 and long.endswith('…"')


@given(st.text())
def test_any_title_gives_a_well_formed_chart(title: str) -> None:
    track = _track([_step("S1", title), _step(title or "x", title)], [_edge("E1", "start", "S1")])
    track["transitions"].append(_edge("E2", "S1", title or "x", "r"))
    rules = {"r": _rule("r", ("dp", "is_equal_to", {"value": title}))}
    chart = track_flowchart(track, None, rules, {"dp": {"id": "dp", "key": title}})
    assert_well_formed(chart)
    assert "`" not in chart


# -- a plan's diagrams ------------------------------------------------------------------------------


def _document(track: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    spec = {
        "tracks": [track, *others],
        "rules": list(RULES.values()),
        "data_point_definitions": list(POINTS.values()),
    }
    return {"metadata": {"key": "f"}, "spec": spec}


OTHER = {
    "id": "T2",
    "key": "aftercare",
    "title": "Aftercare",
    "steps": [_step("A1", "Call")],
    "transitions": [],
}
TRACK_CHANGE = Change(
    "tracks[main].steps[S2].documentation",
    "changed",
    None,
    "new",
    field="documentation",
    trail=[Component("track", "T1", "main", "Main"), Component("step", "S2", "s2", "Triage")],
)


def test_diagrams_of_changed_tracks_only() -> None:
    plan = FlowPlan(
        "f",
        "D",
        "F",
        Status.UPDATE,
        changes=[TRACK_CHANGE],
        desired=_document(NEW, OTHER),
        live=_document(OLD, OTHER),
    )
    diagrams = flow_diagrams(plan)
    assert [title for title, _ in diagrams] == ["Main"]
    assert "class s_S3 added" in diagrams[0][1]


def test_a_changed_rule_draws_the_tracks_that_use_it() -> None:
    change = Change(
        "rules[r_high].conditions",
        "changed",
        [],
        [],
        field="conditions",
        trail=[Component("rule", "r_high")],
    )
    plan = FlowPlan(
        "f",
        "D",
        "F",
        Status.UPDATE,
        changes=[change],
        desired=_document(NEW, OTHER),
        live=_document(NEW, OTHER),
    )
    assert changed_track_ids(plan) == ["T1"]


def test_drift_draws_production_as_the_new_side() -> None:
    plan = FlowPlan(
        "f",
        "D",
        "F",
        Status.DRIFT,
        changes=[TRACK_CHANGE],
        desired=_document(OLD),
        live=_document(NEW),
    )
    chart = flow_diagrams(plan)[0][1]
    assert "class s_S3 added" in chart and "class s_S9 removed" in chart


def test_create_draws_every_track_and_orphaned_none() -> None:
    create = FlowPlan("f", "D", "F", Status.CREATE, desired=_document(NEW, OTHER))
    assert [title for title, _ in flow_diagrams(create)] == ["Main", "Aftercare"]
    orphaned = FlowPlan("f", "D", "F", Status.ORPHANED, changes=[TRACK_CHANGE], live=_document(OLD))
    assert flow_diagrams(orphaned) == []
    in_sync = FlowPlan("f", "D", "F", Status.IN_SYNC, desired=_document(NEW), live=_document(NEW))
    assert flow_diagrams(in_sync) == []
