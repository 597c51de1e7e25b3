"""Finding test-case files at a Git ref: one listing of flows/, and only the test files are read."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from syncer import vcs
from syncer.testcases import files


def test_test_files_at_a_ref_cost_one_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = git.Repo.init(tmp_path)
    for n in range(60):
        (tmp_path / "flows" / f"f{n}").mkdir(parents=True)
        (tmp_path / "flows" / f"f{n}" / "flow.yaml").write_text(f"n: {n}\n", "utf-8")
    for n in (3, 7):
        tests = tmp_path / "flows" / f"f{n}" / "tests"
        tests.mkdir()
        (tests / "a.yaml").write_text("cases: []\n", "utf-8")
        (tests / "notes.txt").write_text("not a test file\n", "utf-8")
    (tmp_path / "flows" / "f9" / "tests").mkdir()
    (tmp_path / "flows" / "f9" / "tests" / "b.yml").write_text("cases: []\n", "utf-8")
    repo.git.add("--all")
    repo.git.commit(
        "-m",
        "flows",
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@x",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@x",
        },
    )
    listed, read = [], []
    real_paths, real_file = vcs.paths_at, vcs.file_at
    monkeypatch.setattr(vcs, "paths_at", lambda *a: listed.append(a) or real_paths(*a))
    monkeypatch.setattr(
        vcs, "file_at", lambda r, ref, path: read.append(path) or real_file(r, ref, path)
    )
    found = files.ref_files(repo, "HEAD", [f"f{n}" for n in range(60) if n != 9])
    assert [f.path for f in found] == ["flows/f3/tests/a.yaml", "flows/f7/tests/a.yaml"]
    assert len(listed) == 1 and sorted(read) == ["flows/f3/tests/a.yaml", "flows/f7/tests/a.yaml"]
