"""The pre-commit hook, run by the real ``pre-commit try-repo`` against a scratch repository.

pre-commit builds the hook's environment as it does for any user (``language: python``: a virtual
environment with syncer installed from the hook repository, its dependencies from the package index),
once for this module; good files pass, a bad one fails naming file:line:column.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.actions_runner import copy_working_tree

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
BP = "remote-bp-monitoring"


def _run(
    cwd: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_working_tree(ROOT, tmp_path_factory.mktemp("hook") / "syncer")
    for args in (
        ("init", "-q"),
        ("add", "-A"),
        ("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "hook"),
    ):
        assert _run(repo, "git", *args).returncode == 0
    return repo


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    return env


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    repo = tmp_path / "flows-repo"
    (repo / "flows").mkdir(parents=True)
    shutil.copytree(ROOT / "flows" / BP, repo / "flows" / BP)
    shutil.copytree(ROOT / "schemas", repo / "schemas", symlinks=False)
    (repo / "environments").mkdir()
    shutil.copy2(ROOT / "environments" / "production-eu.yaml", repo / "environments")
    assert _run(repo, "git", "init", "-q").returncode == 0
    assert _run(repo, "git", "add", "-A").returncode == 0
    return repo


def test_pre_commit_try_repo_passes_good_files_and_names_a_bad_line(
    hook_repo: Path, pre_commit_env: dict[str, str], scratch: Path
) -> None:
    assert PRE_COMMIT.exists(), "pre-commit is a dev dependency (pyproject.toml)"
    good = _run(
        scratch,
        str(PRE_COMMIT),
        "try-repo",
        str(hook_repo),
        "syncer-validate",
        "--all-files",
        env=pre_commit_env,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "syncer validate" in good.stdout and "Passed" in good.stdout

    path = scratch / "flows" / BP / "flow.yaml"
    lines = path.read_text("utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.strip().startswith("title:"))
    column = lines[number - 1].index("title:") + 1
    lines[number - 1] = lines[number - 1].replace("title:", "titel:")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    bad = _run(
        scratch,
        str(PRE_COMMIT),
        "try-repo",
        str(hook_repo),
        "syncer-validate",
        "--files",
        f"flows/{BP}/flow.yaml",
        env=pre_commit_env,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert f"flows/{BP}/flow.yaml:{number}:{column}" in bad.stdout, bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr
