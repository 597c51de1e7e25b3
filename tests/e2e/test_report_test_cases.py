"""A pull request that changes a rule: `syncer report --base` runs the flow's test cases on the base and
on the head and says which cases changed outcome, in the report and in a comment of its own."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.fakegithub import FakeGitHub

from .conftest import BP, BP_ONLY
from .landscape import CANARY, ENV_CANARY, Landscape, example_flow, landscape

ROOT = Path(__file__).resolve().parents[2]
HIGH_READING_RULE = "yGMT1thSbiSf"


def _threshold(value: str) -> Any:
    def change(definition: dict[str, Any]) -> None:
        rule = next(r for r in definition["spec"]["rules"] if r["id"] == HIGH_READING_RULE)
        rule["conditions"][0]["operand"]["value"] = value

    return change


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """BP monitoring exported and applied on main, with its test cases; a branch raises the threshold
    of a high reading from 140 to 160 in Sandbox and exports it."""
    with landscape(tmp_path, monkeypatch, BP_ONLY) as w:
        w.seed("sandbox", example_flow(BP))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        tests = w.repo / "flows" / BP / "tests"
        shutil.copytree(ROOT / "flows" / BP / "tests", tests)
        w.commit_all("Test cases for BP monitoring")
        assert w.syncer("apply", "--yes").code == 0
        w.git().git.checkout("-b", "raise-threshold")
        w.edit("sandbox", BP, _threshold("160"))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w


def test_the_report_names_the_cases_that_changed_outcome(world: Landscape) -> None:
    result = world.syncer("report", "--base", "main", "--output", "markdown")
    assert result.code == 0, result.err  # rendered: the news is in the report, not the exit code
    assert "## syncer: care-flow test cases, compared with `main`" in result.out
    assert (
        "3 passed, 1 failed (4 cases in 1 file) on this change; 1 case changed outcome."
        in result.out
    )
    assert (
        "- *High reading gets a nurse call* (`remote-bp-monitoring`): passes on `main`, fails here: "
        "step *High reading review* was discarded, expected completed"
    ) in result.out
    assert (
        "  - discarded on day 0 00:00: no transition into it was taken (from step *Home reading*: rule "
        "`yGMT1thSbiSf` does not hold: `homeBpReading.systolic` is 152, not greater than or equal to 160)"
    ) in result.out
    text = world.syncer("report", "--base", "main", "--output", "text")
    assert (
        "  High reading gets a nurse call (remote-bp-monitoring): passes on main, fails here"
        in text.out
    )
    assert "      step *High reading review* was discarded, expected completed" in text.out
    # The plan JSON keeps its schema; `syncer test --output json` has the cases.
    assert (
        "care-flow test cases"
        not in world.syncer("report", "--base", "main", "--output", "json").out
    )


def test_no_change_in_outcome_is_said_too(world: Landscape) -> None:
    world.git().git.checkout("main")
    result = world.syncer("report", "--base", "main", "--output", "markdown")
    assert (
        "4 passed, 0 failed (4 cases in 1 file) on this change; 0 cases changed outcome."
        in result.out
    )
    assert "Changed outcome" not in result.out


def test_a_pull_request_gets_one_comment_for_its_test_cases(
    world: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeGitHub(token="t0k", repository="acme/flows") as github:
        pr = github.open_pull("raise-threshold", "main")["number"]
        monkeypatch.setenv("GITHUB_TOKEN", "t0k")
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/flows")
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        first = world.syncer("report", "--base", "main", "--github-pr", str(pr))
        assert "test cases: comment" in first.out and "created" in first.out
        bodies = github.comment_bodies(pr)
        assert len(bodies) == 3  # production-eu, production-us, and the test cases
        tests = next(b for b in bodies if b.startswith("<!-- syncer-report:tests -->"))
        assert "passes on `main`, fails here" in tests
        second = world.syncer("report", "--base", "main", "--github-pr", str(pr))
        assert "created" not in second.out and len(github.comment_bodies(pr)) == 3
        everything = "".join(github.comment_bodies(pr))
    assert CANARY not in everything and ENV_CANARY not in everything


def test_a_base_that_cannot_be_read_does_not_hide_the_head(world: Landscape) -> None:
    bad = world.repo / "flows" / BP / "flow.yaml"
    world.git().git.checkout("main")
    bad.write_text(bad.read_text("utf-8").replace("kind: CareFlow", "kind: CareFlo"), "utf-8")
    world.commit_all("Break main")
    world.git().git.checkout("raise-threshold")
    result = world.syncer("report", "--base", "main", "--output", "markdown")
    assert "> **Note:** the cases at `main` could not be run:" in result.out
    assert "**Still failing** (also on `main`, or not compared)" in result.out
    assert (
        "*High reading gets a nurse call* (`remote-bp-monitoring`): step *High reading review* was discarded"
        in result.out
    )
