"""Reports: golden Markdown for a fixed set of plans, hostile titles, the size limit, concealed values.

The golden files in ``tests/golden/`` are read by people: regenerate them with
``SYNCER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report.py`` and read the diff before committing.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from syncer.model import (
    Change,
    Component,
    ConstantDecision,
    Decision,
    EnvironmentPlan,
    FlowPlan,
    LiveEdit,
    Status,
)
from syncer.report import (
    GITHUB_LIMIT,
    ordered,
    render_environment_markdown,
    render_json,
    render_markdown,
    render_text,
    report_marker,
)

GOLDEN = Path(__file__).parent / "golden"
CANARY = "CANARY-report-77"

MAIN = Component("track", "T1", "main", "Main")
INTAKE = Component("step", "S1", "intake", "Intake")
TRIAGE = Component("step", "S2", "triage", "Triage")


def _flow_document(triage_title: str = "Triage", with_followup: bool = True) -> dict[str, Any]:
    """A small care flow: one track, intake → triage → (follow-up if PHQ-9 ≥ 10) → end."""
    steps = [
        {
            "id": "S1",
            "key": "intake",
            "title": "Intake",
            "actions": [{"id": "Aa1", "type": "message"}],
        },
        {"id": "S2", "key": "triage", "title": triage_title, "actions": []},
    ]
    transitions = [
        {
            "id": "X1",
            "origin": {"type": "track_start", "node_id": "T1"},
            "destination": {"type": "step", "node_id": "S1"},
        },
        {
            "id": "X2",
            "origin": {"type": "step", "node_id": "S1"},
            "destination": {"type": "step", "node_id": "S2"},
        },
        {
            "id": "X4",
            "origin": {"type": "step", "node_id": "S2"},
            "destination": {"type": "track_end", "node_id": "T1"},
            "rule_definition_id": "R2",
        },
    ]
    if with_followup:
        steps.append({"id": "S3", "key": "follow_up", "title": "Follow-up call", "actions": []})
        transitions += [
            {
                "id": "X3",
                "origin": {"type": "step", "node_id": "S2"},
                "destination": {"type": "step", "node_id": "S3"},
                "rule_definition_id": "R1",
            },
            {
                "id": "X5",
                "origin": {"type": "step", "node_id": "S3"},
                "destination": {"type": "track_end", "node_id": "T1"},
            },
        ]
    condition = {"reference": "phq_9.PHQ9_SCORE", "operand": {"type": "number", "value": "10"}}
    return {
        "apiVersion": "syncer.careflow/v1",
        "kind": "CareFlow",
        "metadata": {"definition_id": "D1", "key": "depression-screening", "title": "Depression"},
        "spec": {
            "settings": {
                "constants": [
                    {"id": "c1", "key": "EHR_BASE_URL", "value": "https://ehr.example.org"},
                    # A careless export could leave a value on a concealed item; it must never show.
                    {"id": "c2", "key": "EHR_API_KEY", "concealed": True, "value": CANARY},
                ]
            },
            "tracks": [
                {
                    "id": "T1",
                    "key": "main",
                    "title": "Main",
                    "steps": steps,
                    "transitions": transitions,
                }
            ],
            "rules": [
                {
                    "id": "R1",
                    "boolean_operator": "and",
                    "conditions": [
                        {"id": "k1", "operator": "is_greater_than_or_equal_to", **condition}
                    ],
                },
                {
                    "id": "R2",
                    "boolean_operator": "and",
                    "conditions": [{"id": "k2", "operator": "is_less_than", **condition}],
                },
            ],
            "data_point_definitions": [
                {"id": "phq_9.PHQ9_SCORE", "key": "phq_9.PHQ9_SCORE", "value_type": "number"}
            ],
        },
    }


def _drift() -> FlowPlan:
    return FlowPlan(
        key="depression-screening",
        definition_id="D1",
        title="Depression screening",
        status=Status.DRIFT,
        live_revision=8,
        changes=[
            Change(
                "tracks[main].steps[triage].title",
                "changed",
                "Triage",
                "Triage (urgent)",
                field="title",
                trail=[MAIN, TRIAGE],
            ),
        ],
        live_edits=[LiveEdit(7, "dr.jansen", "2026-11-21T14:02:11Z", True, "studio")],
        desired=_flow_document(),
        live=_flow_document(triage_title="Triage (urgent)"),
    )


def _conflict() -> FlowPlan:
    welcome = Component("action", "Aa1", "", "Send welcome", "message")
    return FlowPlan(
        key="diabetes-intake",
        definition_id="D2",
        title="Diabetes intake",
        status=Status.CONFLICT,
        live_revision=12,
        changes=[
            Change(
                "tracks[main].steps[intake].actions[Aa1].title",
                "changed",
                "Send welcome",
                "Send a welcome",
                field="title",
                trail=[MAIN, INTAKE, welcome],
            ),
        ],
        git_side=[
            Change(
                "tracks[main].steps[triage]",
                "removed",
                {"id": "S2", "title": "Triage", "actions": [{"id": "a"}, {"id": "b"}]},
                None,
                trail=[MAIN, TRIAGE],
            ),
        ],
        live_edits=[
            LiveEdit(11, "n.okafor", "2026-11-20T08:15:00+01:00", True, "studio"),
            LiveEdit(12, "api-bot", "2026-11-20T09:00:00Z", False, "api"),
        ],
    )


def _breaking_update() -> FlowPlan:
    body_before = (
        "Hello {{data_point:name}},\nyour next check is due.\nKind regards,\nThe care team"
    )
    body_after = (
        "Hello {{data_point:name}},\nyour next check is due tomorrow.\nKind regards,\nThe care team"
    )
    message = Component("message", "M1", "", "Reminder")
    score = Component("data_point_definition", "phq_9.PHQ9_SCORE", "phq9_score")
    return FlowPlan(
        key="phq9-followup",
        definition_id="D3",
        title="PHQ-9 follow-up",
        status=Status.UPDATE,
        breaking=True,
        live_revision=4,
        changes=[
            Change(
                "data_point_definitions[phq_9.PHQ9_SCORE]",
                "removed",
                {"id": "phq_9.PHQ9_SCORE", "value_type": "number"},
                None,
                breaking=True,
                trail=[score],
                breaking_reason="data point `phq9_score` removed: integrations "
                "that read it by key will get nothing",
            ),
            Change(
                "messages[M1].body",
                "changed",
                body_before,
                body_after,
                field="body",
                trail=[message],
            ),
            Change(
                "tracks[main].steps[intake].title",
                "changed",
                "Intake",
                "Intake & consent",
                field="title",
                trail=[MAIN, INTAKE],
            ),
            Change(
                "tracks[main].steps[follow_up]",
                "added",
                None,
                {"id": "S3", "title": "Follow-up call", "actions": [{"id": "a1"}]},
                trail=[MAIN, Component("step", "S3", "follow_up", "Follow-up call")],
            ),
            Change(
                "settings.constants[EHR_API_KEY].value",
                "changed",
                CANARY,
                CANARY + "x",
                field="value",
                trail=[Component("constant", "c2", "EHR_API_KEY")],
            ),
            Change(
                "settings.constants[SMS_TOKEN]",
                "added",
                None,
                {"id": "c9", "key": "SMS_TOKEN", "concealed": True, "value": CANARY},
                trail=[Component("constant", "c9", "SMS_TOKEN")],
            ),
            Change("layout", "changed", None, "3 steps moved", cosmetic=True),
        ],
        constants=[
            ConstantDecision(
                "EHR_BASE_URL",
                False,
                Decision.SET_FROM_GIT,
                "https://ehr.example.org/v2",
                changed=True,
            ),
            ConstantDecision(
                "EHR_API_KEY",
                True,
                Decision.BLANK,
                CANARY,
                note="no secret configured for EHR_API_KEY",
            ),
            ConstantDecision("SMS_SENDER", False, Decision.KEEP_DESTINATION, "CareTeam"),
            ConstantDecision("elation.client_secret", True, Decision.SET_FROM_SECRET, changed=True),
        ],
        desired=_flow_document(triage_title="Triage", with_followup=True),
        live=_flow_document(with_followup=False),
    )


def _plans() -> list[EnvironmentPlan]:
    eu = EnvironmentPlan(
        environment="production-eu",
        git_commit="4f1c2a9e0b7d3c5a8e6f",
        flows=[
            FlowPlan(
                "sleep-check",
                "D4",
                "Sleep check",
                Status.CREATE,
                desired=_flow_document(),
                changes=[
                    Change(
                        "flow",
                        "added",
                        None,
                        {"id": "D4"},
                        trail=[Component("flow", "D4", "sleep-check", "Sleep check")],
                    )
                ],
            ),
            FlowPlan("a-in-sync", "D5", "Alpha", Status.IN_SYNC),
            _breaking_update(),
            FlowPlan(
                "old-pilot",
                "D6",
                "Old pilot",
                Status.ORPHANED,
                reason="managed by syncer (git commit `4f1c2a9`) but no `flows/old-pilot/` in Git",
            ),
            FlowPlan(
                "welcome-flow",
                "D7",
                "Welcome",
                Status.UPDATE,
                cosmetic_only=True,
                changes=[Change("layout", "changed", None, "2 steps moved", cosmetic=True)],
            ),
            _drift(),
            FlowPlan(
                "legacy-onboarding",
                "D8",
                "Legacy onboarding",
                Status.UNMANAGED,
                changes=[
                    Change(
                        "metadata.title",
                        "changed",
                        "Onboarding (old)",
                        "Legacy onboarding",
                        field="title",
                        trail=[Component("flow", "D8", "legacy-onboarding")],
                    )
                ],
            ),
            _conflict(),
            FlowPlan("b-in-sync", "D9", "Beta", Status.IN_SYNC),
        ],
    )
    us = EnvironmentPlan(
        environment="production-us",
        git_commit="4f1c2a9e0b7d3c5a8e6f",
        flows=[FlowPlan("a-in-sync", "D5", "Alpha", Status.IN_SYNC)],
        errors=["tenant production-us answered 503 for flow `b-in-sync`"],
    )
    return [eu, us]


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SYNCER_UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the module docstring"


@pytest.mark.parametrize("index, name", [(0, "production-eu.md"), (1, "production-us.md")])
def test_environment_markdown_matches_golden(index: int, name: str) -> None:
    _check_golden(name, render_environment_markdown(_plans()[index]))


def test_text_matches_golden() -> None:
    _check_golden("all.txt", render_text(_plans()))


def test_markdown_of_several_environments_has_one_marker_and_title() -> None:
    text = render_markdown(_plans(), title="Promotion report")
    assert text.startswith("<!-- syncer-report:env=production-eu,production-us -->\n# Promotion")
    assert text.count("<!-- syncer-report") == 1
    assert "## syncer: `production-eu`" in text and "## syncer: `production-us`" in text


def test_marker_is_first_line_and_cannot_close_the_comment() -> None:
    text = render_environment_markdown(_plans()[0])
    assert text.splitlines()[0] == "<!-- syncer-report:env=production-eu -->"
    assert report_marker("evil --><script>") == "<!-- syncer-report:env=evil_-___script_ -->"


def test_flows_most_urgent_first() -> None:
    keys = [f.key for f in ordered(_plans()[0].flows)]
    assert keys == [
        "diabetes-intake",
        "depression-screening",
        "phq9-followup",
        "legacy-onboarding",
        "old-pilot",
        "sleep-check",
        "welcome-flow",
        "a-in-sync",
        "b-in-sync",
    ]


def test_breaking_changes_come_first_in_the_flow() -> None:
    text = render_environment_markdown(_plans()[0])
    section = text[text.index("### Update · breaking") :]
    assert section.index("Breaking for integrations") < section.index("Changes on apply")
    assert (
        "- Data point `phq9_score` removed: integrations that read it by key will get nothing"
        in section
    )


def test_drift_says_who_when_what_and_what_syncer_does() -> None:
    text = render_environment_markdown(_plans()[0])
    assert (
        "**Drift:** edited in `production-eu` by dr.jansen at 2026-11-21 14:02 UTC via studio as a "
        "hotfix, revision 7: step *Triage* title." in text
    )
    assert "syncer will not overwrite it" in text
    assert "`syncer backport --env production-eu --flow depression-screening`" in text


def test_conflict_lists_both_sides_and_converts_times_to_utc() -> None:
    text = render_environment_markdown(_plans()[0])
    assert "by n.okafor at 2026-11-20 07:15 UTC via studio as a hotfix, revision 11" in text
    assert "via api (not marked as a hotfix), revision 12" in text
    assert "**Git's changes since the last apply**" in text
    assert "Track *Main* → step *Triage*: removed (2 actions)" in text


def test_changes_named_by_title_with_excerpts_and_small_diff() -> None:
    text = render_environment_markdown(_plans()[0])
    assert "Track *Main* → step *Intake*: title changed: “Intake” → “Intake &amp; consent”" in text
    assert "  ```diff\n   Hello {{data_point:name}},\n  -your next check is due.\n" in text
    assert (
        text.count("Layout (cosmetic, never a blocker):") == 2
    )  # one line per flow, the cosmetic-only flow included


def test_cosmetic_only_update_is_one_line() -> None:
    text = render_environment_markdown(_plans()[0])
    section = text[text.index("### Update: *Welcome*") :]
    section = section[: section.index("**In sync**")]
    assert "\nLayout (cosmetic, never a blocker): 2 steps moved.\n" in section
    assert "Changes on apply" not in section


def test_constants_table_conceals() -> None:
    text = render_environment_markdown(_plans()[0])
    assert (
        "| `EHR_API_KEY` | blank (no secret configured for EHR\\_API\\_KEY) | (concealed) | no |"
        in text
    )
    assert "| `EHR_BASE_URL` | set\\_from\\_git" not in text  # decisions are our words, not escaped
    assert "| `EHR_BASE_URL` | set_from_git | https://ehr.example.org/v2 | yes |" in text


def test_diagram_per_changed_track_in_details() -> None:
    text = render_environment_markdown(_plans()[0])
    assert text.count("```mermaid") == 3  # drift, breaking update, create
    assert "<details><summary>Diagram: track Main" in text


def test_concealed_canary_never_rendered() -> None:
    plans = _plans()
    outputs = [
        render_markdown(plans),
        render_text(plans),
        render_text(plans, color=True),
        render_json(plans),
        *(render_environment_markdown(p) for p in plans),
    ]
    for output in outputs:
        assert CANARY not in output
    assert "settings.constants[EHR_API_KEY].value" in render_json(plans)


def test_json_shape() -> None:
    plans = _plans()
    one = json.loads(render_json(plans[:1]))
    assert one["environment"] == "production-eu"
    assert set(one["summary"]) == {s.value for s in Status}
    many = json.loads(render_json(plans))
    assert [p["environment"] for p in many] == ["production-eu", "production-us"]


def test_text_plain_has_no_escape_codes_and_color_has_them() -> None:
    assert "\x1b[" not in render_text(_plans())
    assert "\x1b[31m" in render_text(_plans(), color=True)


# -- hostile input ----------------------------------------------------------------------------------

HOSTILE = [
    "**bold** _em_ [link](https://evil.example) ![img](x)",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    'A-->B["x"]; click A call evil()',
    "back`tick``s``` and ~~~",
    "pipe | in | title",
    "line\nbreak\r\n# heading",
    "@org/everyone $x^2$ \u202eevil",
    "W" * 10_000,
]


def _hostile_plan(title: str) -> EnvironmentPlan:
    step = Component("step", "S1", "intake", title)
    document = _flow_document(triage_title=title)
    document["spec"]["tracks"][0]["title"] = title
    flow = FlowPlan(
        key="hostile",
        definition_id="D",
        title=title,
        status=Status.DRIFT,
        changes=[
            Change(
                "tracks[main].steps[intake].title",
                "changed",
                title,
                title + "!",
                field="title",
                trail=[Component("track", "T1", "main", title), step],
            )
        ],
        live_edits=[LiveEdit(3, title, "2026-01-01T00:00:00Z", True)],
        constants=[ConstantDecision("K", False, Decision.SET_FROM_GIT, title, note=title)],
        desired=_flow_document(),
        live=document,
    )
    return EnvironmentPlan("production-eu", "abc", [flow])


def _outside_code(markdown: str) -> str:
    """The Markdown with fenced blocks and code spans removed: what GitHub treats as HTML/Markdown."""
    without_fences = re.sub(r"^\s*(`{3,}).*?^\s*\1", "", markdown, flags=re.S | re.M)
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", without_fences)


def _table_cells(line: str) -> int:
    """Cells of a Markdown table row, counting only unescaped pipes (GFM splits on those)."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


@pytest.mark.parametrize("title", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_titles_render_safely_in_markdown(title: str) -> None:
    text = render_environment_markdown(_hostile_plan(title))
    prose = _outside_code(text)
    ours = r"<!-- syncer-report:env=[\w.-]+ -->|</?details>|</?summary>"
    assert "<" not in re.sub(ours, "", prose), "raw HTML from a title"
    assert not re.search(r"(?<!\\)\]\(", prose), "a title made a link"
    assert not re.search(r"(?<!\\)\*\*bold", prose), "a title made bold text"
    assert "@org" not in prose, "a title would mention a team"
    assert "\u202e" not in text and "\r" not in text
    assert max(len(line) for line in text.splitlines()) < 1200, "a long title was not cut"
    for line in text.splitlines():
        if line.startswith("|"):
            assert _table_cells(line) in (4, 8), line  # constants table, summary table


@pytest.mark.parametrize("title", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_titles_cannot_break_mermaid(title: str) -> None:
    blocks = re.findall(
        r"```mermaid\n(.*?)\n```\n", render_environment_markdown(_hostile_plan(title)), re.S
    )
    assert len(blocks) == 1
    for line in blocks[0].splitlines():
        assert line.count('"') % 2 == 0, line
        for label in re.findall(r'"([^"]*)"', line):
            assert not re.search(r"[<>\[\]`;(){}|]", re.sub(r"#\w+;", "", label)), label
            assert len(label) < 400
        skeleton = re.sub(r'"[^"]*"', "L", line)
        assert re.fullmatch(
            r"\s*(flowchart TD|\w+\(\[(Start|End)\]\)|s_\w+\[L\]|\w+ -\.?->(\|L\|)? \w+"
            r"|classDef .*|class [\w,]+ \w+)",
            skeleton,
        ), line
        for node in re.findall(r"\b(s_\w+)", skeleton):
            assert re.fullmatch(r"s_[A-Za-z0-9_]+", node)


@pytest.mark.parametrize("title", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_titles_in_text_are_one_line_without_escapes(title: str) -> None:
    text = render_text([_hostile_plan(title)])
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert len(text.splitlines()) < 20
    assert max(len(line) for line in text.splitlines()) < 1200


# -- size limit -------------------------------------------------------------------------------------


def _huge_plan(flows: int = 400, changes: int = 40) -> EnvironmentPlan:
    """Many breaking updates, each with many multi-line message changes, and many in-sync flows."""
    plans = []
    for n in range(flows):
        flow = copy.deepcopy(_breaking_update())
        flow.key = f"flow-{n:04d}"
        flow.changes += [
            Change(
                f"messages[M{i}].body",
                "changed",
                "x" * 300 + "\nold",
                "x" * 300 + "\nnew",
                field="body",
                trail=[Component("message", f"M{i}", "", f"Message {i}")],
            )
            for i in range(changes)
        ]
        plans.append(flow)
    plans += [FlowPlan(f"quiet-{n}", "D", "Quiet", Status.IN_SYNC) for n in range(500)]
    return EnvironmentPlan("production-eu", "abc", plans)


def _many_diagrams(flows: int = 60) -> EnvironmentPlan:
    """Small changes, but one diagram per flow: only the diagrams have to go."""
    plans = []
    for n in range(flows):
        flow = _drift()
        flow.key = f"flow-{n:04d}"
        plans.append(flow)
    return EnvironmentPlan("production-eu", "abc", plans)


@pytest.mark.parametrize(
    "plan, expect",
    [
        (_many_diagrams(), "diagrams omitted to fit"),
        (_huge_plan(8), "diagrams and long excerpts omitted to fit"),
        (_huge_plan(60), "the details of flows without drift or conflict omitted"),
        (_huge_plan(400), "the least urgent flows cut off"),
    ],
    ids=["diagrams", "excerpts", "collapsed", "truncated"],
)
def test_huge_plan_fits_and_says_so(plan: EnvironmentPlan, expect: str) -> None:
    text = render_environment_markdown(plan, limit=GITHUB_LIMIT)
    assert len(text) <= GITHUB_LIMIT
    first, second = text.splitlines()[:2]
    assert first == "<!-- syncer-report:env=production-eu -->"
    assert second.startswith("> **Note:** report shortened: ") and expect in second
    assert second.endswith("to fit GitHub's 65,536-character limit.")
    assert text.count("<details>") == text.count("</details>")
    assert "flow-0000" in text  # the most urgent flows stay


def test_hard_truncation_keeps_the_most_urgent_flows() -> None:
    plan = _huge_plan(400)
    plan.flows.append(_conflict())
    text = render_environment_markdown(plan)
    assert "### Conflict: *Diabetes intake*" in text
    assert text.endswith("*… cut off here.*\n")


@pytest.mark.parametrize("limit", [300, 1000, 5000, 20000])
def test_any_limit_is_respected(limit: int) -> None:
    for text in (
        render_environment_markdown(_huge_plan(20), limit),
        render_markdown(_plans(), limit=limit),
    ):
        assert len(text) <= limit
        assert text.startswith("<!-- syncer-report:env=production-eu")


def test_small_report_is_not_shortened() -> None:
    assert "report shortened" not in render_environment_markdown(_plans()[0])
