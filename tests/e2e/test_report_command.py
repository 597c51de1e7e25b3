"""`syncer report` as a reviewer meets it: one comment per environment on the pull request, updated in
place, the step summary, and `--base`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakegithub import FakeGitHub

from .conftest import BP, BP_ONLY
from .landscape import CANARY, ENV_CANARY, Landscape, example_flow, landscape


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch, BP_ONLY) as w:
        w.seed("sandbox", example_flow(BP))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        assert w.syncer("apply", "--yes").code == 0
        yield w


def test_one_comment_per_environment_updated_in_place(
    world: Landscape, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world.edit("production-eu", BP, lambda d: d["spec"]["tracks"][0].update(title="Hotfixed"), True)
    summary = tmp_path / "summary.md"
    with FakeGitHub(token="t0k", repository="acme/flows") as github:
        pr = github.open_pull("feature", "main")["number"]
        monkeypatch.setenv("GITHUB_TOKEN", "t0k")
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/flows")
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        first = world.syncer("report", "--github-pr", str(pr))
        assert first.code == 0, first.err  # rendered and posted: the news is in the comments
        assert "created" in first.out
        bodies = github.comment_bodies(pr)
        assert len(bodies) == 2  # production-eu and production-us
        assert any("Drift" in b and "dr.jansen" in b for b in bodies)
        second = world.syncer("report", "--github-pr", str(pr))
        assert "updated" in second.out and "created" not in second.out
        assert len(github.comment_bodies(pr)) == 2
        everything = "".join(github.comment_bodies(pr)) + summary.read_text("utf-8")
    assert "syncer-report:env=production-eu" in everything
    assert CANARY not in everything and ENV_CANARY not in everything


def test_missing_github_settings_is_a_clear_error(
    world: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    result = world.syncer("report", "--github-pr", "1")
    assert result.code == 1 and "GITHUB_TOKEN" in result.err


def test_base_shows_what_the_pull_request_changes(world: Landscape) -> None:
    world.git().git.checkout("-b", "feature")
    world.edit("sandbox", BP, lambda d: d["spec"]["tracks"][0]["steps"][0].update(title="Renamed"))
    world.syncer("export", "--env", "sandbox", "--commit")
    result = world.syncer("report", "--base", "main", "--output", "markdown")
    assert result.code == 0  # a report exits 0 once rendered, whatever it found
    assert "Renamed" in result.out
    detailed = world.syncer("report", "--base", "main", "--detailed-exitcode")
    assert detailed.code == 2  # changes to apply, when asked for the detail
    world.edit("production-eu", BP, lambda d: d["spec"]["tracks"][0].update(title="Hotfix"), True)
    assert world.syncer("report", "--detailed-exitcode").code == 3
    assert world.syncer("report").code == 0
