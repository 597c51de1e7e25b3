"""The demo story (`make demo`) runs end to end and tells what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import git


def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "syncer", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1", "COLUMNS": "120"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout + result.stderr
    for promise in ("Seeded Sandbox", "Export", "Apply", "Hotfix", "not overwritten", "Done"):
        assert promise in out
    assert "published in production-eu: nothing" in out
    assert "CONFLICT" in out or "DRIFT" in out
    assert "remote-bp-monitoring: skipped" in out  # the hotfix was not overwritten
    assert (workdir / "report.md").is_file()
    repo = git.Repo(workdir / "repo")
    assert len(list(repo.iter_commits())) == 3  # environments, export, second export
