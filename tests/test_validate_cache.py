"""``syncer validate`` with the parse cache and worker processes says exactly what the plain check says.

A second run checks no unchanged file (counted by ``RepositoryCheck.unchanged``) and still reports every
warning; a changed file is checked again; more than a few changed files are checked in worker processes,
with the same problems, warnings and order as one process gives; a valid file checked by ``validate``
is one a later plan does not parse again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate_flow
from syncer import canonical, model, validate, yamlio
from syncer.cli import main
from syncer.workspace import Workspace
from syncer.workspace import validation as cached

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(tmp_path / "cache"))


def _with_warning(flow: dict[str, Any]) -> dict[str, Any]:
    """A flow whose first message names a dynamic variable that does not exist: a warning."""
    message = flow["spec"]["messages"][0]
    message["body"] = message["body"] + "\n{{{dynamic_variable:gone-variable}}}\n"
    return flow


def _repository(tmp_path: Path, count: int) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "environments", root / "environments")
    for seed in range(count):
        flow = generate_flow(seed, 6)
        if seed == 0:
            flow = _with_warning(flow)
        _write(root, flow)
    for example in sorted((ROOT / "flows").glob("*/flow.yaml")):  # the environments name these
        target = root / "flows" / example.parent.name / "flow.yaml"
        target.parent.mkdir(parents=True)
        target.write_bytes(example.read_bytes())
    return root


def _write(root: Path, flow: dict[str, Any]) -> Path:
    path = root / "flows" / flow["metadata"]["key"] / "flow.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlio.dump(canonical.canonicalize(flow), model.flow_file_header()), "utf-8")
    return path


def _said(result: validate.RepositoryCheck) -> tuple[list[str], list[str]]:
    return [str(p) for p in result.problems], [str(p) for p in result.warnings]


def test_a_second_run_checks_nothing_and_says_the_same(tmp_path: Path) -> None:
    root = _repository(tmp_path, 3)
    first = cached.validate_repository(root)
    assert first.unchanged == 0 and first.flows == 6
    assert not first.problems and any("gone-variable" in w.message for w in first.warnings)
    again = cached.validate_repository(root)
    assert again.unchanged == 6
    assert _said(again) == _said(first) == _said(validate.check_repository(root))


def test_a_changed_file_is_checked_again_and_its_old_bytes_are_still_known(tmp_path: Path) -> None:
    root = _repository(tmp_path, 3)
    cached.validate_repository(root)
    path = root / "flows" / generate_flow(1, 6)["metadata"]["key"] / "flow.yaml"
    good = path.read_text("utf-8")
    path.write_text(good.replace("apiVersion: syncer.careflow/v1", "apiVersion: v0"), "utf-8")
    broken = cached.validate_repository(root)
    assert broken.unchanged == 5
    assert [p.line for p in broken.problems] == [2] and "apiVersion" in broken.problems[0].message
    assert _said(broken) == _said(validate.check_repository(root))
    path.write_text(good, "utf-8")
    assert cached.validate_repository(root).unchanged == 6  # the same bytes as before


def test_worker_processes_give_what_one_process_gives(tmp_path: Path) -> None:
    root = _repository(tmp_path, 9)
    for seed, breaking in ((2, ("type: form", "type: formular")), (5, ("title:", "titel:"))):
        path = root / "flows" / generate_flow(seed, 6)["metadata"]["key"] / "flow.yaml"
        path.write_text(path.read_text("utf-8").replace(*breaking, 1), "utf-8")
    duplicate = generate_flow(7, 6)
    duplicate["metadata"]["key"] = "copy-of-seven"
    _write(root, duplicate)  # the same definition_id as flow 7: a cross-file problem
    in_workers = cached.validate_repository(root)
    assert in_workers.unchanged == 0 and in_workers.flows == 13
    assert _said(in_workers) == _said(validate.check_repository(root))
    assert len({p.path for p in in_workers.problems}) == 4  # two broken files, one id twice
    assert _said(cached.validate_repository(root)) == _said(in_workers)


def test_the_command_prints_the_same_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repository(tmp_path, 2)
    outputs = []
    for _ in range(2):
        assert main(["validate", "--repo", str(root)]) == 0
        outputs.append(capsys.readouterr())
    assert outputs[0] == outputs[1]
    assert "warning: flows/" in outputs[0].err and "valid: 5 flows" in outputs[0].out


def test_a_plan_after_validate_parses_no_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path, 5)
    assert not cached.validate_repository(root).problems

    def parse_again(*args: object) -> None:
        raise AssertionError("a file validate checked was parsed again")

    monkeypatch.setattr(Workspace, "_parse_flow", parse_again)
    assert len(Workspace(root).flows) == 8
