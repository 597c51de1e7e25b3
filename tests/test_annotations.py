"""GitHub workflow commands: escaping as the runner requires, caps per level, lines of changes, and the
step outputs and commit states the action maps to a check's colour."""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from syncer import yamlio
from syncer.errors import Problem
from syncer.github.actions import output_lines
from syncer.model import Change, Component, EnvironmentPlan, FlowPlan, LiveEdit, Status
from syncer.report.annotations import (
    PER_LEVEL,
    Annotation,
    capped,
    command,
    escape_data,
    escape_property,
    json_path,
    plan_annotations,
    problem_annotations,
    render,
    status_state,
    step_outputs,
)
from tests.actions_runner import annotations_in, read_file_commands

ROOT = Path(__file__).resolve().parents[1]


def test_escaping_follows_the_runner() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = command(Annotation("error", "line one\nline two", "t:1,2", "flows/a b/flow.yaml", 3, 7))
    assert line == (
        "::error file=flows/a b/flow.yaml,line=3,col=7,title=t%3A1%2C2::line one%0Aline two"
    )
    assert "\n" not in line


@given(st.text(), st.text(), st.text(alphabet=string.printable))
def test_any_text_is_one_command_and_reads_back(message: str, title: str, file: str) -> None:
    line = command(Annotation("warning", message, title, file or None, 1, 1))
    assert "\n" not in line and "\r" not in line
    (read,) = annotations_in(line)
    # The runner reads back exactly what was meant; nothing ends the command early.
    assert read.message == message
    assert read.properties.get("title", "") == title


def test_a_typed_command_in_the_printed_lines_is_never_a_command() -> None:
    text = render([], ["::add-mask::x", "  ::error::y", "plain"])
    assert annotations_in(text) == []
    assert all(not line.startswith("::") for line in text.splitlines())


def test_each_level_is_capped_and_says_how_many_more() -> None:
    many = [Annotation("notice", f"n{i}") for i in range(25)] + [Annotation("error", "e")]
    kept = capped(many, "see the job summary")
    notices = [a for a in kept if a.level == "notice"]
    assert len(notices) == PER_LEVEL
    assert notices[-1].message == "16 more notices like these: see the job summary."
    assert kept[0].level == "error"


def test_validation_problems_land_on_their_file_line_and_column() -> None:
    found = problem_annotations(
        [Problem("flows/a/flow.yaml", "unknown field `titel`", 6, 3, "Did you mean `title`?")],
        [Problem("flows/a/flow.yaml", "step s1 is not reachable", 40, 9)],
    )
    assert [(a.level, a.file, a.line, a.col) for a in found] == [
        ("error", "flows/a/flow.yaml", 6, 3),
        ("warning", "flows/a/flow.yaml", 40, 9),
    ]
    assert found[0].message == "unknown field `titel` Did you mean `title`?"


def test_change_paths_resolve_to_the_lines_of_the_component() -> None:
    rel = "flows/remote-bp-monitoring/flow.yaml"
    document = yamlio.load_file(ROOT / rel, rel)
    data = document.data
    step = data["spec"]["tracks"][1]["steps"][0]
    track_key = data["spec"]["tracks"][1]["key"]
    path = json_path(data, f"tracks[{track_key}].steps[{step['key']}].title")
    assert path == ["spec", "tracks", 1, "steps", 0, "title"]
    line, _ = document.locate(path)
    assert document.text.splitlines()[line - 1].strip() == f"title: {step['title']}"
    assert json_path(data, "data_point_definitions[homeBpReading.systolic].value_type")[:2] == [
        "spec",
        "data_point_definitions",
    ]
    assert json_path(data, "flow") == ["metadata"]
    assert json_path(data, "metadata.title") == ["metadata", "title"]
    assert json_path(data, "tracks[nope].title") == ["spec", "tracks"]  # as far as it goes


def _plans() -> list[EnvironmentPlan]:
    main, intake = (
        Component("track", "T1", "main", "Main"),
        Component("step", "S1", "intake", "Intake"),
    )
    change = Change(
        "tracks[main].steps[intake].title",
        "changed",
        "Intake",
        "Intake & consent",
        field="title",
        trail=[main, intake],
    )
    update = FlowPlan("flow-a", "D1", "Flow A", Status.UPDATE, changes=[change])
    drift = FlowPlan(
        "flow-b",
        "D2",
        "Flow B",
        Status.DRIFT,
        changes=[change],
        live_edits=[LiveEdit(7, "dr.jansen", "2026-11-21T14:02:11Z", True, "studio")],
    )
    untracked = FlowPlan("by-hand", "D3", "Made by hand", Status.UNTRACKED, reason="only here")
    return [
        EnvironmentPlan("production-eu", "c0ffee", [update, drift, untracked]),
        EnvironmentPlan("production-us", "c0ffee", [update]),
    ]


def test_plan_news_on_the_changed_lines_merged_across_environments() -> None:
    def locate(key: str, path: str) -> tuple[str, int, int] | None:
        return (f"flows/{key}/flow.yaml", 14 if "intake" in path else 1, 7)

    found = plan_annotations(_plans(), locate)
    update = [a for a in found if a.file == "flows/flow-a/flow.yaml"]
    assert len(update) == 1 and update[0].level == "notice" and update[0].line == 14
    assert update[0].title == "syncer: change applied on apply in production-eu, production-us"
    assert "title changed: “Intake” → “Intake & consent”" in update[0].message
    drift = next(a for a in found if a.file == "flows/flow-b/flow.yaml")
    assert drift.level == "warning" and "dr.jansen" in drift.message
    untracked = next(a for a in found if "by-hand" in a.message or "Made by hand" in a.message)
    assert untracked.level == "notice" and untracked.file == "flows/by-hand/flow.yaml"


def test_outputs_and_commit_states() -> None:
    plans = _plans()
    outputs = step_outputs(plans)
    assert outputs["changes"] == "true" and outputs["needs-person"] == "true"
    summary = json.loads(outputs["summary"])
    assert summary["production-eu"]["drift"] == 1 and summary["production-eu"]["untracked"] == 1
    assert summary["production-us"] == {**summary["production-us"], "state": "success"}
    assert [status_state(p) for p in plans] == ["failure", "success"]
    assert status_state(EnvironmentPlan("x", "c", errors=["503"])) == "error"
    assert (
        step_outputs([EnvironmentPlan("x", "c", [FlowPlan("u", "D", "U", Status.UNTRACKED)])])[
            "needs-person"
        ]
        == "false"
    )  # a flow only in the tenant is news, not work


def test_output_file_format_reads_back(tmp_path: Path) -> None:
    values = {"summary": '{"a":1}', "multi": "line one\nline two", "empty": ""}
    path = tmp_path / "out"
    path.write_text(output_lines(values), "utf-8")
    assert read_file_commands(path) == values
