"""``syncer test``: the real Awell export passes its own validation.yaml, a changed threshold fails it,
the examples' cases pass, and every way of naming cases, every output and every exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from syncer import cli

from .awellcases import real_export

ROOT = Path(__file__).resolve().parents[1]
KEY = "jb-source-control"


def _real() -> Path:
    return real_export()


@pytest.fixture
def imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A repository holding the real export, imported: import-awell brings Awell's test cases along."""
    source = _real()
    assert cli.main(["import-awell", str(source), "--repo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"Test cases: validation.yaml (1 case) into flows/{KEY}/tests/validation.yaml" in out
    copied = tmp_path / "flows" / KEY / "tests" / "validation.yaml"
    assert (
        copied.read_bytes() == (source / "validation.yaml").read_bytes()
    )  # as the author wrote it
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["test", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_real_export_passes_its_own_validation_yaml(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--repo", str(imported))
    assert code == 0, out + err
    assert f"flows/{KEY}/tests/validation.yaml\n  PASS  Logic test\n" in out
    assert out.endswith("1 passed, 0 failed (1 case in 1 file)\n")
    # Awell's own file names a checklist the flow does not have; Awell ignores it, syncer says so.
    assert (
        "the flow has no checklist action titled `checky cheese`; this entry is never used. Did you mean `checky`?"
        in err
    )


def test_changing_the_threshold_fails_the_case_naming_the_rule_and_the_value(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = imported / "flows" / KEY / "flow.yaml"
    text = flow.read_text("utf-8")
    rule = "    - id: h72iVMDhbTNl\n      boolean_operator: and\n      conditions:\n        - id: Xnhf4EURIJKj\n          operand: {type: number, value: '10'}\n"
    assert rule in text
    flow.write_text(text.replace(rule, rule.replace("'10'", "'9'")), "utf-8")
    code, out, _err = _run(capsys, "--repo", str(imported))
    assert code == 3
    assert "  FAIL  Logic test (line 2)\n        expected  step *PHQ-9 over 10* DISCARDED\n" in out
    assert "        instead   step *PHQ-9 over 10* was completed, expected discarded\n" in out
    assert (
        "activated on day 0 00:00: transition `RTYnNoou2N4L` was taken from step *step 1*: "
        "rule `h72iVMDhbTNl` holds: `phq_9.PHQ9_SCORE` is 9, greater than or equal to 9"
    ) in out
    assert "        timeline\n" in out and out.endswith("0 passed, 1 failed (1 case in 1 file)\n")
    # The README shows exactly this output.
    readme = (ROOT / "README.md").read_text("utf-8")
    shown = readme.split("```text\n$ syncer test\n", 1)[1].split("```", 1)[0]
    assert shown == out


def test_the_examples_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--repo", str(ROOT))
    assert code == 0, out + err
    assert "FAIL" not in out
    for key in ("depression-screening", "post-op-knee-recovery", "remote-bp-monitoring"):
        assert f"flows/{key}/tests/" in out
    assert out.endswith("13 passed, 0 failed (13 cases in 3 files)\n")


def test_the_examples_still_validate_with_their_tests(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--repo", str(ROOT)]) == 0
    assert capsys.readouterr().out.startswith("valid: 3 flows")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the project's example flows and their tests."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "syncer" / "schemas", tmp_path / "schemas")
    return tmp_path


def test_cases_are_named_by_title_file_or_folder(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--repo", str(repo), "smooth RECOVERY")
    assert code == 0 and out.endswith("1 passed, 0 failed (1 case in 3 files)\n")
    code, out, _ = _run(
        capsys, "--repo", str(repo), "flows/remote-bp-monitoring/tests/readings.yaml"
    )
    assert code == 0 and out.endswith("4 passed, 0 failed (4 cases in 1 file)\n")
    code, out, _ = _run(capsys, "--repo", str(repo), "flows/depression-screening")
    assert code == 0 and out.endswith("4 passed, 0 failed (4 cases in 1 file)\n")
    code, out, _ = _run(capsys, "--repo", str(repo), "--flow", "post-op-knee-recovery")
    assert code == 0 and out.endswith("5 passed, 0 failed (5 cases in 1 file)\n")


def test_a_file_outside_the_flows_needs_exactly_one_flow(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-validation.yaml"
    shutil.copy(repo / "flows" / "depression-screening" / "tests" / "screening.yaml", outside)
    code, out, _ = _run(capsys, "--repo", str(repo), "--flow", "depression-screening", str(outside))
    assert code == 0 and out.endswith("4 passed, 0 failed (4 cases in 1 file)\n")
    code, _, err = _run(capsys, "--repo", str(repo), str(outside))
    assert code == 1
    assert "cannot tell which flow it tests. Name the flow with exactly one --flow KEY." in err


def test_a_bad_case_file_is_exit_1_and_the_other_cases_still_run(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = repo / "flows" / "depression-screening" / "tests" / "typo.yaml"
    bad.write_text(
        "cases:\n  - title: Typo\n    activities: []\n    validate:\n      - {type: step, name: Referal, action: COMPLETE}\n",
        "utf-8",
    )
    code, out, err = _run(capsys, "--repo", str(repo))
    assert code == 1
    assert (
        "error: flows/depression-screening/tests/typo.yaml:5:22: the flow has no step `Referal`. Did you mean `Referral`?"
        in err
    )
    assert out.endswith("13 passed, 0 failed (13 cases in 4 files); 1 file could not be used\n")


def test_an_unknown_title_or_flow_is_exit_1_with_a_hint(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "--repo", str(repo), "Smooth recovry")
    assert (
        code == 1
        and "no test case is titled `Smooth recovry`. Did you mean `Smooth recovery`?" in err
    )
    code, _, err = _run(capsys, "--repo", str(repo), "--flow", "depression-screenin")
    assert (
        code == 1
        and "no flow `depression-screenin` in flows/. Did you mean `depression-screening`?" in err
    )


def test_json_and_markdown(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--repo", str(repo), "--flow", "remote-bp-monitoring", "--output", "json"
    )
    data = json.loads(out)
    assert code == 0 and data["summary"]["passed"] == 4
    late = next(c for c in data["cases"] if c["title"].startswith("A reading five days late"))
    reminder = next(
        e for e in late["timeline"] if e["subject"] == "track" and e["name"] == "Missed readings"
    )
    assert reminder["elapsed"] == "day 3 00:00" and reminder["at"] == "2024-01-04T00:00:00Z"
    code, out, _ = _run(
        capsys, "--repo", str(repo), "--flow", "remote-bp-monitoring", "--output", "markdown"
    )
    assert code == 0 and out.startswith(
        "## syncer test\n\n4 passed, 0 failed (4 cases in 1 file).\n"
    )


def test_no_cases_is_not_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(
        ROOT / "flows" / "depression-screening",
        tmp_path / "flows" / "depression-screening",
        ignore=shutil.ignore_patterns("tests"),
    )
    code, out, _ = _run(capsys, "--repo", str(tmp_path))
    assert code == 0
    assert "No test cases: add them as flows/<key>/tests/*.yaml" in out


def test_an_invalid_flow_is_exit_1(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = repo / "flows" / "depression-screening" / "flow.yaml"
    flow.write_text(flow.read_text("utf-8").replace("kind: CareFlow", "kind: CareFlo"), "utf-8")
    code, _, err = _run(capsys, "--repo", str(repo))
    assert code == 1 and "flows/depression-screening/flow.yaml" in err and "Traceback" not in err


def test_validate_checks_test_files_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--repo", str(repo)]) == 0
    assert capsys.readouterr().out == "valid: 3 flows, 3 test-case files and 0 environments.\n"
    bad = repo / "flows" / "depression-screening" / "tests" / "typo.yaml"
    bad.write_text(
        "cases:\n  - title: Typo\n    activities: []\n    validate:\n      - {type: track, name: Safety chek, action: ACTIVATE}\n",
        "utf-8",
    )
    assert (
        cli.main(["validate", "--repo", str(repo), "flows/depression-screening/tests/typo.yaml"])
        == 1
    )
    err = capsys.readouterr().err
    assert (
        "error: flows/depression-screening/tests/typo.yaml:5:23: the flow has no track `Safety chek`. Did you mean `Safety check`?"
        in err
    )
    assert "1 problem in 0 flows, 1 test-case file and 0 environments; nothing was written." in err
    orphan = repo / "flows" / "gone" / "tests"
    orphan.mkdir(parents=True)
    (orphan / "a.yaml").write_text("cases: []\n", "utf-8")
    assert cli.main(["validate", "--repo", str(repo)]) == 1
    assert (
        "flows/gone/tests/a.yaml: the tests of flow `gone` have no flow" in capsys.readouterr().err
    )
