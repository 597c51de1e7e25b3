"""``syncer validate`` and ``syncer.validate``: schema and meaning checks, every error with its place.

The bad inputs of the "Foundation" issue each run the real command line on a real repository in
``tmp_path``: exit code 1, a message that names the file and line:column, and not one byte written.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from syncer import canonical, model, validate, yamlio
from syncer.cli import main
from syncer.errors import ConfigError, Problem
from syncer.model import Role
from tests.awellcases import real_export
from tests.strategies import FLOW_SETTINGS, careflows

FlowFactory = Callable[..., dict[str, Any]]
ROOT = Path(__file__).resolve().parents[1]
FLOW_FILE = "flows/intake/flow.yaml"
ENV_FILE = "environments/production.yaml"

ENVIRONMENT = """\
apiVersion: syncer.careflow/v1
kind: Environment
name: production
role: target
region: eu
url: http://127.0.0.1:8402
api_key_env: SYNCER_PRODUCTION_API_KEY
flows: all
constants:
  EHR_BASE_URL: https://ehr.eu.example.org
secrets:
  EHR_API_KEY: {from_env: PROD_EHR_API_KEY}
  elation.client_secret: {from_env: PROD_ELATION_SECRET}
extensions:
  elation: {base_url: https://app.elationemr.com/api/2.0}
identifier_systems:
  - {name: MRN, system: https://awellhealth.com/identifiers/mrn}
ignore:
  - spec.settings.reminders
windows:
  - {kind: deny, cron: "0 7 * * 1-5", duration: 11h, timezone: Europe/Brussels}
verify:
  signed_commits: false
"""


def _flow_text(flow: dict[str, Any]) -> str:
    return yamlio.dump(canonical.canonicalize(flow), model.flow_file_header())


@pytest.fixture
def repo(tmp_path: Path, make_flow: FlowFactory) -> Path:
    """A valid repository: one flow (``intake``) and one target environment (``production``)."""
    root = tmp_path / "repo"
    (root / "flows" / "intake").mkdir(parents=True)
    (root / FLOW_FILE).write_text(_flow_text(make_flow()), "utf-8")
    (root / "environments").mkdir()
    (root / ENV_FILE).write_text(ENVIRONMENT, "utf-8")
    return root


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and folder under ``root`` with its bytes and modification time."""
    state: dict[str, tuple[bytes, int]] = {}
    for path in sorted(root.rglob("*")):
        content = path.read_bytes() if path.is_file() else b"<dir>"
        state[str(path.relative_to(root))] = (content, path.stat().st_mtime_ns)
    return state


def _validate(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``syncer validate`` and check that it wrote nothing."""
    before = _snapshot(root)
    code = main(["validate", "--repo", str(root), *args])
    captured = capsys.readouterr()
    assert _snapshot(root) == before, "syncer validate must never write"
    return code, captured.out, captured.err


def _line_of(text: str, marker: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, f"{marker!r} must be on exactly one line"
    return lines[0]


def _edit(root: Path, relative: str, old: str, new: str) -> str:
    path = root / relative
    text = path.read_text("utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, "utf-8")
    return text


def _write_flow(root: Path, flow: dict[str, Any], relative: str = FLOW_FILE) -> str:
    text = _flow_text(flow)
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(text, "utf-8")
    return text


def _assert_error(err: str, where: str, *words: str) -> str:
    """The error line that starts with ``where`` (file:line:column) and holds every word."""
    lines = [line for line in err.splitlines() if line.startswith(f"error: {where}")]
    assert lines, f"no error at {where} in:\n{err}"
    assert any(all(w in line for w in words) for line in lines), f"{words} not in:\n{err}"
    return next(line for line in lines if all(w in line for w in words))


# --- a valid repository --------------------------------------------------------------------------------


def test_a_valid_repository_exits_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _validate(repo, capsys)
    assert code == 0, err
    assert "valid: 1 flow and 1 environment" in out


def test_the_shipped_example_repository_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    if not (ROOT / "flows").is_dir():
        pytest.skip("no example flows")
    code = main(["validate", "--repo", str(ROOT)])
    assert code == 0, capsys.readouterr().err


def test_json_output_lists_every_problem(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, FLOW_FILE, "  title: Intake\n", "  title: Intake\n  titel: x\n")
    code, out, _err = _validate(repo, capsys, "--output", "json")
    assert code == 1
    problems = json.loads(out)
    assert problems == [
        {
            "severity": "error",
            "path": FLOW_FILE,
            "line": 8,
            "column": 3,
            "message": "unknown field `titel` in `metadata`.",
            "hint": "Did you mean `title`?",
        }
    ]


def test_markdown_output(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, ENV_FILE, "role: target", "role: production")
    code, out, _err = _validate(repo, capsys, "--output", "markdown")
    assert code == 1
    assert out.startswith("## syncer validate")
    assert f"| error | `{ENV_FILE}:4:1` |" in out


# --- the bad inputs of the issue -----------------------------------------------------------------------


def test_invalid_yaml(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, FLOW_FILE, "  title: Intake\n", "  title: [Intake\n")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    assert re.search(
        rf"^error: {re.escape(FLOW_FILE)}:\d+:\d+: invalid YAML: ", err, re.MULTILINE
    ), err
    assert "Traceback" not in err


def test_duplicate_mapping_keys(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, FLOW_FILE, "  title: Intake\n", "  title: Intake\n  title: Again\n")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:8:3", "duplicate key")


def test_unknown_field(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _edit(
        repo, FLOW_FILE, "          key: intake\n", "          key: intake\n          colour: red\n"
    )
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    line = _line_of(text, "colour: red")
    _assert_error(
        err, f"{FLOW_FILE}:{line}:11", "unknown field `colour`", "spec.tracks[0].steps[0]"
    )


def test_wrong_type(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, FLOW_FILE, "          default: false", "          default: 'no'")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:43:11", "must be true or false, not a string")


def test_dangling_reference_with_a_suggestion(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _edit(repo, FLOW_FILE, "node_id: stp-intake}", "node_id: stp-intke}")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    line = _line_of(text, "stp-intke")
    message = _assert_error(err, f"{FLOW_FILE}:{line}:", "goes to step `stp-intke`")
    assert "which does not exist in track `main`. Did you mean `stp-intake`?" in message


def test_dangling_references_of_every_kind(
    repo: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = make_flow()
    step = flow["spec"]["tracks"][0]["steps"][0]
    step["label_definition_ids"] = ["lbl-missing"]
    step["actions"] = [
        {
            "id": "act-form",
            "type": "form",
            "title": "Form",
            "form_definition_id": "frm-missing",
            "stakeholder_definition_ids": ["stk-patiant"],
            "location_definition_ids": [],
        },
        {
            "id": "act-api",
            "type": "api_call",
            "title": "Call",
            "stakeholder_definition_ids": [],
            "location_definition_ids": [],
            "api_call": {
                "method": "GET",
                "endpoint": "{{constants.EHR_BASE_URLL}}/x",
                "headers": [],
                "mappings": [{"response_key": "a", "data_point_definition_id": "dp-missing"}],
            },
        },
    ]
    flow["spec"]["triggers"] = [
        {
            "id": "trg",
            "target": {"type": "track", "id": "trk-mian"},
            "settings": {"type": "pathway_started"},
        }
    ]
    flow["spec"]["rules"] = [
        {
            "id": "rul",
            "boolean_operator": "and",
            "conditions": [
                {"id": "c1", "reference": "dp-nope", "operator": "is_true", "operand": None}
            ],
        }
    ]
    text = _write_flow(repo, flow)
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    for marker, words in [
        ("lbl-missing", "refers to label `lbl-missing`"),
        ("frm-missing", "refers to form `frm-missing`"),
        ("stk-patiant", "Did you mean `stk-patient`?"),
        ("EHR_BASE_URLL", "Did you mean `EHR_BASE_URL`?"),
        ("dp-missing", "data point definition `dp-missing`"),
        ("trk-mian", "Did you mean `trk-main`?"),
        ("dp-nope", "refers to data point definition `dp-nope`"),
    ]:
        _assert_error(err, f"{FLOW_FILE}:{_line_of(text, marker)}:", words)


def test_duplicate_ids(
    repo: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = make_flow()
    flow["spec"]["labels"] = [{"id": "stp-intake", "color": "red", "text": "same id as the step"}]
    text = _write_flow(repo, flow)
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    label_line, step_line = (
        _line_of(text, "same id as the step"),
        _line_of(text, "- id: stp-intake"),
    )
    _assert_error(
        err,
        f"{FLOW_FILE}:{step_line}:",
        f"duplicate id `stp-intake`: the label at line {label_line}",
    )


def test_unreachable_step_is_a_warning_with_its_location(
    repo: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A working version is a draft (SPEC 3): validate exits 0 and names the step."""
    flow = make_flow()
    flow["spec"]["tracks"][0]["steps"].append(
        {
            "id": "stp-orphan",
            "key": "orphan",
            "title": "Orphan",
            "label_definition_ids": [],
            "actions": [],
        }
    )
    flow["layout"]["steps"]["stp-orphan"] = {"x": 0, "y": 0}
    text = _write_flow(repo, flow)
    code, _out, err = _validate(repo, capsys)
    assert code == 0, err
    line = _line_of(text, "id: stp-orphan")
    assert f"warning: {FLOW_FILE}:{line}:" in err
    assert "step `orphan` cannot be reached" in err and "track `main`" in err
    assert "error" not in err.lower()


def test_empty_track_and_unused_data_point_are_warnings(
    repo: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = make_flow()
    flow["spec"]["tracks"].append(
        {"id": "trk-later", "key": "later", "title": "Later", "steps": [], "transitions": []}
    )
    flow["spec"]["data_point_definitions"].append(
        {
            "id": "dp-someday",
            "key": "someday",
            "category": "pathway",
            "value_type": "string",
            "source_definition_id": flow["metadata"]["definition_id"],
            "qualified_key": "someday",
        }
    )
    text = _write_flow(repo, flow)
    code, _out, err = _validate(repo, capsys)
    assert code == 0, err
    track_line = _line_of(text, "steps: []")
    point_line = _line_of(text, "id: dp-someday")
    assert f"warning: {FLOW_FILE}:{track_line}:" in err and "track `later` has no steps yet" in err
    assert f"warning: {FLOW_FILE}:{point_line}:" in err
    assert "data point `someday` is defined but nothing uses it yet" in err


@pytest.mark.parametrize("bad_key", ["../evil", "Intake", "in take", "-intake", "x" * 64])
def test_flow_key_that_is_not_a_safe_slug(
    repo: Path, capsys: pytest.CaptureFixture[str], bad_key: str
) -> None:
    _edit(repo, FLOW_FILE, "  key: intake\n", f"  key: '{bad_key}'\n")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:6:3", "`metadata.key`", "which is not valid")
    _assert_error(err, f"{FLOW_FILE}:6:3", "does not match its folder `flows/intake/`")
    assert not (repo / "evil").exists() and not (repo.parent / "evil").exists()


def test_flow_key_that_does_not_match_its_folder(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(repo, FLOW_FILE, "  key: intake\n", "  key: admission\n")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:6:3", "metadata.key `admission` does not match")


def test_folder_name_that_is_not_a_slug(
    repo: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_flow(
        repo, make_flow(definition_id="other", key="Bad_Folder"), "flows/Bad_Folder/flow.yaml"
    )
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    assert "error: flows/Bad_Folder: the folder name `Bad_Folder` is not a valid flow key." in err


def test_path_outside_the_repository(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(ENVIRONMENT, "utf-8")
    for given_path in (str(outside), str(repo / ".." / "elsewhere.yaml")):
        code, _out, err = _validate(repo, capsys, given_path)
        assert code == 1
        assert f"error: {given_path}: `{given_path}` is outside the repository" in err


def test_symbolic_link_out_of_the_repository(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n", "utf-8")
    (repo / "environments" / "linked.yaml").symlink_to(secret)
    code, _out, err = _validate(repo, capsys, "environments/linked.yaml")
    assert code == 1
    assert "is outside the repository" in err
    assert "hunter2" not in err


def test_file_over_10_mib(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (repo / FLOW_FILE).open("ab") as handle:
        handle.write(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    assert f"error: {FLOW_FILE}: the file is" in err and "over the 10485760 byte limit" in err


def test_billion_laughs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    laughs = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [
        f"lol{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]"
        for i in range(1, 12)
    ]
    (repo / FLOW_FILE).write_text("\n".join(laughs) + "\n", "utf-8")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:1:7", "anchors and aliases are not allowed")


def test_non_utf8_bytes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / FLOW_FILE
    path.write_bytes(path.read_bytes().replace(b"title: Intake", b"title: Intak\xe9", 1))
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:7:15", "byte 0xe9 is not valid UTF-8")


def test_environment_with_an_unknown_role(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, ENV_FILE, "role: target", "role: targte")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    message = _assert_error(err, f"{ENV_FILE}:4:1", "`role` is `targte`", "source, target")
    assert "Did you mean `target`?" in message


def test_environment_with_a_literal_secret(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(
        repo,
        ENV_FILE,
        "EHR_API_KEY: {from_env: PROD_EHR_API_KEY}",
        "EHR_API_KEY: sk-live-0123456789",
    )
    code, out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:12:3", "must be `{from_env: VARIABLE}`", "from_env")
    assert "sk-live-0123456789" not in err + out


def test_environment_with_an_unknown_key(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, ENV_FILE, "region: eu\n", "region: eu\nregoin: us\n")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:6:1", "unknown field `regoin`", "Did you mean `region`?")


def test_environment_name_must_match_the_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(repo, ENV_FILE, "name: production", "name: prod")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:3:1", "does not match the file name `production.yaml`")


def test_concealed_constant_with_a_value(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(
        repo,
        FLOW_FILE,
        "        concealed: true\n",
        "        concealed: true\n        value: s3cr3t-value\n",
    )
    code, out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:16:9", "must not have a `value`")
    assert "s3cr3t-value" not in out + err


def test_environment_value_for_a_concealed_constant(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(
        repo,
        ENV_FILE,
        "  EHR_BASE_URL: https://ehr.eu.example.org\n",
        "  EHR_BASE_URL: https://ehr.eu.example.org\n  EHR_API_KEY: in-the-clear\n",
    )
    code, out, err = _validate(repo, capsys)
    assert code == 1
    message = _assert_error(
        err, f"{ENV_FILE}:11:3", "`EHR_API_KEY` is concealed in flows/intake/flow.yaml"
    )
    assert "secrets:" in message
    assert "in-the-clear" not in out + err


def test_secret_for_a_visible_or_unknown_constant(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(
        repo,
        ENV_FILE,
        "  elation.client_secret: {from_env: PROD_ELATION_SECRET}\n",
        "  EHR_BASE_URL: {from_env: A}\n  EHR_API_KY: {from_env: B}\n",
    )
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:13:3", "secret `EHR_BASE_URL` names a visible item")
    _assert_error(
        err, f"{ENV_FILE}:14:3", "secret `EHR_API_KY` names no concealed", "`EHR_API_KEY`"
    )


def test_environment_flow_list_names_existing_flows(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(repo, ENV_FILE, "flows: all", "flows: [intak]")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:8:9", "flow `intak` is not in flows/", "Did you mean `intake`?")


def test_duplicate_definition_id_across_flows(
    repo: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_flow(repo, make_flow(key="second"), "flows/second/flow.yaml")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(
        err, "flows/second/flow.yaml:5:3", "id `flow-intake` is also used by flows/intake"
    )


def test_only_the_given_paths_are_checked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, FLOW_FILE, "  title: Intake\n", "  title: Intake\n  titel: x\n")
    code, out, _err = _validate(repo, capsys, ENV_FILE)
    assert code == 0
    assert "valid: 0 flows and 1 environment" in out
    code, _out, err = _validate(repo, capsys, "flows")
    assert code == 1 and "titel" in err


def test_a_missing_path_and_a_stray_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "notes.yaml").write_text("a: 1\n", "utf-8")
    code, _out, err = _validate(repo, capsys, "nope.yaml", "notes.yaml")
    assert code == 1
    assert "error: nope.yaml: no such file or folder." in err
    assert "error: notes.yaml: this is neither a care flow nor an environment file." in err


def test_an_empty_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / FLOW_FILE).write_text("", "utf-8")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    assert f"error: {FLOW_FILE}:1:1: the file is empty" in err


def test_a_document_that_is_not_a_mapping_does_not_crash(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / FLOW_FILE).write_text("- just\n- a list\n", "utf-8")
    (repo / ENV_FILE).write_text("42\n", "utf-8")
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    assert "`the document` must be" not in err
    assert f"error: {FLOW_FILE}:1:1: the document must be a mapping, not a list." in err
    assert f"error: {ENV_FILE}:1:1: the document must be a mapping, not a number." in err


# --- check_flow ----------------------------------------------------------------------------------------


def _check(flow: Any, key: str | None = "intake") -> list[str]:
    doc = yamlio.load_text(_flow_text(flow) if isinstance(flow, dict) else flow, FLOW_FILE)
    return [str(p) for p in validate.check_flow(doc, key)]


def test_a_valid_flow_has_no_problems(make_flow: FlowFactory) -> None:
    assert _check(make_flow()) == []


def test_malformed_components_never_crash(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["tracks"] = [
        {"id": 1, "steps": "x", "transitions": [None, {"origin": 3}]},
        "track",
    ]
    flow["spec"]["settings"] = {"constants": {"A": 1}, "extensions": []}
    flow["layout"] = []
    problems = _check(flow)
    assert problems and all(p.startswith(f"{FLOW_FILE}:") for p in problems)


def test_meaning_checks_survive_wrong_shapes_without_structural_errors(
    make_flow: FlowFactory,
) -> None:
    flow = make_flow()
    flow["spec"]["tracks"][0]["transitions"][0]["origin"] = {
        "type": "track_start",
        "node_id": "trk-other",
    }
    problems = _check(flow)
    assert any(
        "starts at the track start of `trk-other`, but it belongs to track `main`" in p
        for p in problems
    )


def test_transition_to_a_step_of_another_track(make_flow: FlowFactory) -> None:
    flow = make_flow()
    other = copy.deepcopy(flow["spec"]["tracks"][0])
    other.update(id="trk-2", key="second")
    other["steps"][0].update(id="stp-2")
    other["transitions"] = [
        {
            "id": "t-2",
            "origin": {"type": "track_start", "node_id": "trk-2"},
            "destination": {"type": "step", "node_id": "stp-intake"},
            "default": False,
        }
    ]
    flow["spec"]["tracks"].append(other)
    problems = _check(flow)
    assert any(
        "goes to step `stp-intake`, which is in track `trk-main`, not in track `second`" in p
        for p in problems
    )
    doc = yamlio.load_text(_flow_text(flow), FLOW_FILE)
    warnings: list[Any] = []
    validate.check_flow(doc, "intake", warnings)
    assert any(
        "step `intake` cannot be reached from the start of track `second` yet" in str(w)
        for w in warnings
    )


def test_placeholders_must_resolve(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["messages"] = [
        {
            "id": "msg",
            "subject": "Hi {{constants.EHR_BASE_URL}}",
            "format": "html",
            "body": "a\n{{data_point:dp-x}}\n",
            "html_body": "{{{dynamic_variable:dv-x}}}",
            "attachments": None,
            "dynamic_variable_definition_ids": [],
            "constant_ids": ["cst-url"],
        }
    ]
    doc = yamlio.load_text(_flow_text(flow), FLOW_FILE)
    warnings: list[Problem] = []
    problems = [str(p) for p in validate.check_flow(doc, "intake", warnings)]
    assert len(problems) == 1 and "placeholder `{{data_point:dp-x}}`" in problems[0]
    assert [w.message for w in warnings] == [
        "placeholder `{{{dynamic_variable:dv-x}}}` refers to dynamic variable `dv-x`, which does not exist"
        " in `spec.dynamic_variables`."
    ]


def test_duplicate_constant_keys(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["settings"]["constants"][0]["key"] = "EHR_API_KEY"  # cst-url, second once sorted
    problems = _check(flow)
    assert any("constant key `EHR_API_KEY` is used twice (first at line 13)" in p for p in problems)


def test_layout_entries_name_existing_nodes(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["layout"]["steps"]["stp-intak"] = {"x": 1, "y": 1}
    problems = _check(flow)
    assert any(
        "layout names step `stp-intak`, which is not in the flow. Did you mean `stp-intake`?" in p
        for p in problems
    )


def test_concealed_false_is_not_allowed(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["settings"]["constants"][0]["concealed"] = False  # cst-url, second once sorted
    problems = _check(flow)
    assert len(problems) == 1
    assert "`spec.settings.constants[1].concealed` must be `true`" in problems[0]


def test_action_type_decides_its_fields(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["tracks"][0]["steps"][0]["actions"] = [
        {
            "id": "a",
            "type": "message",
            "title": "t",
            "stakeholder_definition_ids": [],
            "location_definition_ids": [],
            "form_definition_id": "f",
        }
    ]
    problems = _check(flow)
    assert any("is missing `message_definition_id`" in p for p in problems)
    assert any("unknown field `form_definition_id`" in p for p in problems)


def test_schema_problems_for_the_tenant_api(make_flow: FlowFactory) -> None:
    flow = make_flow()
    assert validate.schema_problems(flow, "careflow") == []
    del flow["metadata"]["title"]
    flow["spec"]["labels"] = "none"
    problems = validate.schema_problems(flow, "careflow")
    assert [path for path, _message in problems] == [("metadata",), ("spec", "labels")]
    assert problems[0][1].startswith("`metadata` is missing `title`.")


@FLOW_SETTINGS
@given(careflows())
def test_generated_flows_are_valid(flow: dict[str, Any]) -> None:
    text = _flow_text(flow)
    doc = yamlio.load_text(text, "flows/generated/flow.yaml")
    assert [str(p) for p in validate.check_flow(doc, flow["metadata"]["key"])] == []


def test_the_real_awell_export_imports_into_a_valid_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-awell", str(real_export()), "--repo", str(tmp_path)]) == 0
    capsys.readouterr()
    result = validate.check_repository(tmp_path)
    assert result.problems == [] and result.flows == 1 and result.tests == 1
    # Awell's own export names a dynamic variable that is not in it: a warning, not an error; and its
    # validation.yaml (brought along into tests/) a checklist the flow does not have: a warning too.
    flow_warnings = [w for w in result.warnings if w.path.endswith("flow.yaml")]
    assert flow_warnings and all("yR6_LtzzDUEu" in w.message for w in flow_warnings)
    assert [w.message for w in result.warnings if w not in flow_warnings] == [
        "the flow has no checklist action titled `checky cheese`; this entry is never used."
    ]


# --- environments --------------------------------------------------------------------------------------


def test_parse_environment(repo: Path) -> None:
    doc = yamlio.load_file(repo / ENV_FILE, ENV_FILE)
    assert validate.check_environment(doc, "production") == []
    environment = validate.parse_environment(doc.data, ENV_FILE)
    assert environment.role is Role.TARGET
    assert environment.flows is None
    assert environment.secrets == {
        "EHR_API_KEY": "PROD_EHR_API_KEY",
        "elation.client_secret": "PROD_ELATION_SECRET",
    }
    assert environment.extensions == {"elation": {"base_url": "https://app.elationemr.com/api/2.0"}}
    assert environment.windows[0] == model.Window(
        "deny", "0 7 * * 1-5", 11 * 3600, "Europe/Brussels"
    )
    assert environment.identifier_systems[0]["name"] == "MRN"
    assert environment.path == ENV_FILE


def test_parse_environment_with_a_flow_list_and_defaults() -> None:
    data = {
        "name": "sandbox",
        "role": "source",
        "url": "http://x/",
        "api_key_env": "K",
        "flows": ["a"],
    }
    environment = validate.parse_environment(data, "environments/sandbox.yaml")
    assert (
        environment.flows == ("a",) and environment.url == "http://x" and environment.region == ""
    )
    with pytest.raises(ConfigError, match=r"environments/bad\.yaml"):
        validate.parse_environment({"name": "bad"}, "environments/bad.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("11h", 39600), ("30m", 1800), ("90s", 90), ("1d", 86400), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert validate.duration_seconds(text) == seconds


def test_windows_and_verify_are_checked(repo: Path) -> None:
    text = ENVIRONMENT.replace('"0 7 * * 1-5"', '"0 7 * * 8"').replace(
        "Europe/Brussels", "Europe/Brussel"
    )
    text = text.replace("signed_commits: false", "signed_commits: true")
    doc = yamlio.load_text(text, ENV_FILE)
    problems = [str(p) for p in validate.check_environment(doc, "production")]
    assert any("`0 7 * * 8` is not a valid cron expression" in p for p in problems)
    if os.path.isdir("/usr/share/zoneinfo"):
        assert any("Did you mean `Europe/Brussels`?" in p for p in problems)
    assert any(
        "`verify.signed_commits` is true but `allowed_signers_env` is missing" in p
        for p in problems
    )


@pytest.mark.parametrize(
    ("window", "field", "said"),
    [
        ('cron: "0 0 30 2 *", duration: 1h', "cron", "never fires"),
        ('cron: "0 0 29 2 *", duration: 99999999999h', "duration", "longer than a year"),
    ],
)
def test_a_window_that_would_crash_the_reconciler_is_refused(
    window: str, field: str, said: str
) -> None:
    """Found by probing: validate passed both, and apply and reconcile then died with a traceback."""
    text = ENVIRONMENT.replace('cron: "0 7 * * 1-5", duration: 11h', window)
    doc = yamlio.load_text(text, ENV_FILE)
    line, column = doc.locate(("windows", 0, field))
    problems = [str(p) for p in validate.check_environment(doc, "production")]
    assert problems == [p for p in problems if said in p] and len(problems) == 1, problems
    assert problems[0].startswith(f"{ENV_FILE}:{line}:{column}: ")
    fine = text.replace("30 2", "29 2").replace("99999999999h", "366d")
    assert validate.check_environment(yamlio.load_text(fine, ENV_FILE), "production") == []


def test_allowed_signers_in_the_repository_are_refused_saying_why(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commit being verified must never vouch for itself (SPEC 4): a repository file is refused,
    even when it exists; the operator's variable is the only way."""
    (repo / ".syncer").mkdir()
    (repo / ".syncer" / "allowed_signers").write_text("dev@example.org ssh-ed25519 AAAA\n", "utf-8")
    _edit(
        repo,
        ENV_FILE,
        "  signed_commits: false\n",
        "  signed_commits: true\n  allowed_signers: .syncer/allowed_signers\n",
    )
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:24:3", "could add its own key there and vouch for itself")
    assert "allowed_signers_env: SYNCER_ALLOWED_SIGNERS" in err
    _edit(
        repo,
        ENV_FILE,
        "  allowed_signers: .syncer/allowed_signers\n",
        "  allowed_signers_env: SYNCER_ALLOWED_SIGNERS\n",
    )
    assert _validate(repo, capsys)[0] == 0


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8402", True),
        ("http://127.8.9.10:8402", True),
        ("http://[::1]:8402", True),
        ("http://localhost:8402", True),
        ("https://tenant.example.org", True),
        ("http://tenant.example.org", False),
        ("http://10.0.0.5:8402", False),
        ("HTTP://Tenant.Example.org/api", False),
        ("http://localhost.evil.example.org", False),
    ],
)
def test_a_remote_url_must_be_https(
    repo: Path, capsys: pytest.CaptureFixture[str], url: str, ok: bool
) -> None:
    _edit(repo, ENV_FILE, "url: http://127.0.0.1:8402", f"url: '{url}'")
    code, _out, err = _validate(repo, capsys)
    if ok:
        assert code == 0, err
        return
    assert code == 1
    _assert_error(err, f"{ENV_FILE}:6:1", "plain http:// to a host that is not loopback")
    assert url not in err  # a URL may carry credentials: never echoed


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("api_key_env: SYNCER_PRODUCTION_API_KEY", "api_key_env: sk-live-pasted-key-123"),
        ("{from_env: PROD_EHR_API_KEY}", "{from_env: sk-live-pasted-key-123}"),
        ("url: http://127.0.0.1:8402", "url: 'ftp://admin:sk-live-pasted-key-123@tenant'"),
    ],
)
def test_a_pasted_secret_is_never_repeated(
    repo: Path, capsys: pytest.CaptureFixture[str], old: str, new: str
) -> None:
    _edit(repo, ENV_FILE, old, new)
    code, out, err = _validate(repo, capsys, "--output", "json")
    assert code == 1
    assert "is not valid" in out
    assert "sk-live-pasted-key-123" not in out + err


def test_a_linked_flow_out_of_the_repository_is_refused_in_a_full_walk(
    repo: Path, tmp_path: Path, make_flow: FlowFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(_flow_text(make_flow(definition_id="x", key="linked")), "utf-8")
    (repo / "flows" / "linked").mkdir()
    (repo / "flows" / "linked" / "flow.yaml").symlink_to(outside)
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    assert (
        "error: flows/linked/flow.yaml: `flows/linked/flow.yaml` is outside the repository" in err
    )
    assert validate.validate_repository(repo, [Path("environments")]) == []


def test_placeholders_in_the_flow_s_own_title_must_resolve(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/flow-format.md says every string; `metadata` was not checked (a newcomer's walk-through)."""
    text = _edit(repo, FLOW_FILE, "  title: Intake\n", "  title: Intake {{constants.NOPE}}\n")
    line = text.splitlines().index("  title: Intake {{constants.NOPE}}") + 1
    code, _out, err = _validate(repo, capsys)
    assert code == 1
    _assert_error(err, f"{FLOW_FILE}:{line}:", "`{{constants.NOPE}}` names no constant")
