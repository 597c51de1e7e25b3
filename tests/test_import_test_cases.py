"""``import-awell`` brings an export's ``validation.yaml`` along into ``flows/<key>/tests/``, checked
against the imported flow first: a file that would not load, or that holds an encrypted value, is
refused and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syncer import cli

from .awellcases import real_export

ROOT = Path(__file__).resolve().parents[1]
KEY = "jb-source-control"
TESTS = Path("flows", KEY, "tests", "validation.yaml")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A scratch copy of the real export (outside the project), to change its validation.yaml."""
    return Path(shutil.copytree(real_export(), tmp_path / "export"))


def _import(repo: Path, export: Path, *more: str) -> int:
    return cli.main(["import-awell", str(export), "--repo", str(repo), *more])


def test_without_tests_leaves_them_behind(
    tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(tmp_path / "repo", export, "--without-tests") == 0
    assert (
        "Not read (not part of a care-flow definition): README.md, validation.yaml"
        in capsys.readouterr().out
    )
    assert not (tmp_path / "repo" / TESTS).exists()


def test_a_test_file_that_would_not_load_refuses_the_import(
    tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    validation = export / "validation.yaml"
    validation.write_text(
        validation.read_text("utf-8").replace("name: PHQ-9 over 10", "name: PHQ-9 over ten"),
        "utf-8",
    )
    repo = tmp_path / "repo"
    assert _import(repo, export) == 1
    err = capsys.readouterr().err
    assert (
        f"{validation}:47:9: the flow has no step `PHQ-9 over ten`. Did you mean `PHQ-9 over 10`?"
        in err
    )
    assert not (repo / "flows").exists()  # nothing written, not even the flow


def test_an_encrypted_value_in_the_test_file_is_refused_and_never_shown(
    tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "U2FsdGVkX1+canary0123456789abcdef"
    validation = export / "validation.yaml"
    validation.write_text(
        validation.read_text("utf-8").replace(
            'value: "give the patient a referral"', f'value: "{secret}"'
        ),
        "utf-8",
    )
    repo = tmp_path / "repo"
    assert _import(repo, export) == 1
    out, err = capsys.readouterr()
    assert "holds an Awell-encrypted value" in err
    assert secret not in out + err and "U2FsdGVkX1" not in out + err.replace("(at its text)", "")
    assert not (repo / "flows").exists()
    # An escaped spelling in YAML is caught too.
    escaped = "\\u0055" + secret[1:]  # YAML reads \u0055 as U
    validation.write_text(validation.read_text("utf-8").replace(secret, escaped), "utf-8")
    assert _import(repo, export) == 1
    assert "holds an Awell-encrypted value (at cases" in capsys.readouterr().err


def test_an_edited_test_file_is_only_replaced_with_force(
    tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    assert _import(repo, export) == 0
    local = repo / TESTS
    local.write_text(local.read_text("utf-8") + "# a local note\n", "utf-8")
    assert _import(repo, export, "--force") == 0
    assert "# a local note" not in local.read_text("utf-8")
    local.write_text(local.read_text("utf-8") + "# again\n", "utf-8")
    (repo / "flows" / KEY / "flow.yaml").unlink()
    assert _import(repo, export) == 1
    assert "tests/validation.yaml already exists; nothing was written" in capsys.readouterr().err
    assert not (repo / "flows" / KEY / "flow.yaml").exists()


def test_a_kept_test_file_that_no_longer_fits_stops_the_import(tmp_path: Path) -> None:
    """A newcomer's walk-through: a re-import with --without-tests left a test file naming a step
    the new version had renamed, and the repository then failed `syncer validate`."""
    import json

    from .awellcases import MINI

    repo = tmp_path / "repo"
    assert cli.main(["import-awell", str(MINI), "--key", "mini", "--repo", str(repo)]) == 0
    tests = repo / "flows" / "mini" / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    (tests / "local.yaml").write_text(
        "cases:\n  - title: Reaches the follow-up\n    activities: []\n    validate:\n"
        "      - {type: step, name: Follow-up, action: ACTIVATE}\n",
        "utf-8",
    )
    assert cli.main(["validate", "--repo", str(repo)]) == 0
    flow = (repo / "flows" / "mini" / "flow.yaml").read_text("utf-8")

    renamed = Path(shutil.copytree(MINI, tmp_path / "v2"))
    steps = renamed / "steps" / "steps.json"
    entries = json.loads(steps.read_text("utf-8"))
    for entry in entries:
        if entry["step"]["title"] == "Follow-up":
            entry["step"]["title"] = "Check-in"
    steps.write_text(json.dumps(entries), "utf-8")
    argv = ["import-awell", str(renamed), "--key", "mini", "--force", "--without-tests"]
    assert cli.main([*argv, "--repo", str(repo)]) == 1
    assert (repo / "flows" / "mini" / "flow.yaml").read_text("utf-8") == flow  # nothing written
    assert cli.main(["validate", "--repo", str(repo)]) == 0
