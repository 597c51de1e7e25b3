"""The Awell Studio Source Control format, both ways: ``syncer import-awell`` and ``syncer export-awell``.

Two exports are used: the real one in ``../shared/fixtures/awell-source-control-export/`` (read in place;
its tests skip when the folder is absent) and ``tests/fixtures/awell-mini/``, a small hand-made export
with every component and action type, constants, and fake encrypted values ending in ``CANARY``.
"""

from __future__ import annotations

import copy
import importlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer import awell, canonical, model, yamlio
from syncer.awell import folder as awellio
from syncer.awell import tables as awell_tables
from syncer.cli import main

from .awellcases import MINI, REAL, present

ROOT = Path(__file__).resolve().parents[1]
ENCRYPTED = awell_tables.ENCRYPTED_PREFIX
KEYS = {REAL: "jb-source-control", MINI: "mini-flow-every-component"}
_MINI_COMPONENTS = awellio.read_export(MINI).components


def _source(name: str) -> Path:
    return present({"real": REAL, "mini": MINI}[name])


@pytest.fixture(params=["mini", "real"])
def source(request: pytest.FixtureRequest) -> Path:
    return _source(request.param)


def _import(source: Path, repo: Path, *extra: str) -> int:
    return main(["import-awell", str(source), "--repo", str(repo), *extra])


def _flow_file(repo: Path, source: Path) -> Path:
    return repo / "flows" / KEYS[source] / "flow.yaml"


def _components(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every component of an export by (type, _key), without what the round trip may lose."""
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for file in sorted(folder.glob("*/*.json")):
        for entry in json.loads(file.read_text("utf-8")):
            kind = awell_tables.KIND_BY_TYPE[entry["type"]]
            payload = copy.deepcopy(entry[kind.payload])
            for name in kind.volatile:
                payload.pop(name, None)
            if kind is awell_tables.SETTINGS:
                _forget_obfuscated_values(payload)
            assert (entry["type"], payload["_key"]) not in result
            result[(entry["type"], payload["_key"])] = payload
    return result


def _forget_obfuscated_values(settings: dict[str, Any]) -> None:
    items = [item for group in settings.get("plugins", {}).values() for item in group.values()]
    items += settings.get("constants", [])
    for item in items:
        if item.get("obfuscated"):
            item.pop("value", None)
    if "constants" in settings:  # a list without meaning in its order: the flow file sorts it by id
        settings["constants"].sort(key=lambda item: item["id"])


def _files_under(path: Path) -> dict[str, bytes]:
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


# --- the round trip -----------------------------------------------------------------------------------


def test_mini_export_has_every_component_and_action_type() -> None:
    assert {folder for folder, entries in _MINI_COMPONENTS.items() if entries} == set(
        awell_tables.KIND_BY_FOLDER
    )
    action_types = {entry["action"]["type"] for entry in _MINI_COMPONENTS["actions"]}
    assert action_types == set(awell_tables.ACTION_SHAPES)


def test_round_trip_gives_back_every_component(source: Path, tmp_path: Path) -> None:
    repo, out = tmp_path / "repo", tmp_path / "awell"
    assert _import(source, repo) == 0
    assert main(["export-awell", KEYS[source], str(out), "--repo", str(repo)]) == 0
    original, exported = _components(source), _components(out)
    assert sorted(exported) == sorted(original)
    for key, component in original.items():
        assert exported[key] == component, key


def test_export_writes_concealed_items_obfuscated_without_value(tmp_path: Path) -> None:
    repo, out = tmp_path / "repo", tmp_path / "awell"
    assert _import(MINI, repo) == 0
    assert main(["export-awell", KEYS[MINI], str(out), "--repo", str(repo)]) == 0
    settings = json.loads((out / "settings" / "settings.json").read_text("utf-8"))[0]
    payload = settings["pathway_settings"]
    assert payload["plugins"]["mailgun"]["apiKey"] == {
        "id": "setMailKey01",
        "label": "API Key",
        "obfuscated": True,
    }
    constants = {c["id"]: c for c in payload["constants"]}
    assert constants["constEhrKey1"] == {
        "id": "constEhrKey1",
        "label": "EHR API key",
        "obfuscated": True,
    }
    assert constants["constEhrUrl1"]["value"] == "https://ehr.example.org"
    text = "".join(p.read_text("utf-8") for p in out.rglob("*.json"))
    assert ENCRYPTED not in text
    assert "created" not in text and "last_updated" not in text


def test_reimporting_an_export_gives_the_same_file(source: Path, tmp_path: Path) -> None:
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "awell"
    assert _import(source, first) == 0
    assert main(["export-awell", KEYS[source], str(out), "--repo", str(first)]) == 0
    assert _import(out, second) == 0
    assert _flow_file(second, source).read_bytes() == _flow_file(first, source).read_bytes()


# --- determinism and canonical form -------------------------------------------------------------------


def test_import_is_deterministic(source: Path, tmp_path: Path) -> None:
    assert _import(source, tmp_path / "a") == 0
    assert _import(source, tmp_path / "b") == 0
    assert _import(source, tmp_path / "a", "--force") == 0
    a, b = _flow_file(tmp_path / "a", source), _flow_file(tmp_path / "b", source)
    assert a.read_bytes() == b.read_bytes()


def test_imported_file_is_a_canonical_fixed_point(source: Path, tmp_path: Path) -> None:
    assert _import(source, tmp_path) == 0
    path = _flow_file(tmp_path, source)
    text = path.read_text("utf-8")
    assert text.startswith(model.flow_file_header() + "\n")
    data = yamlio.load_file(path).data
    assert yamlio.dump(canonical.canonicalize(data), model.flow_file_header()) == text


def test_imported_file_validates(source: Path, tmp_path: Path) -> None:
    validate = importlib.import_module("syncer.validate")
    if not hasattr(validate, "check_flow"):
        pytest.skip("syncer.validate.check_flow is not written yet")
    assert _import(source, tmp_path) == 0
    document = yamlio.load_file(_flow_file(tmp_path, source))
    assert [str(p) for p in validate.check_flow(document, KEYS[source])] == []


# --- secrets --------------------------------------------------------------------------------------------


def test_no_encrypted_value_reaches_the_repository_or_the_output(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(source, tmp_path) == 0
    captured = capsys.readouterr()
    for name, content in _files_under(tmp_path).items():
        assert ENCRYPTED.encode() not in content, name
        assert b"CANARY" not in content, name
    assert ENCRYPTED not in captured.out + captured.err
    assert "CANARY" not in captured.out + captured.err
    assert "concealed, set it per environment" in captured.out.lower()


def test_obfuscated_values_become_concealed_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(MINI, tmp_path) == 0
    out = capsys.readouterr().out
    settings = yamlio.load_file(_flow_file(tmp_path, MINI)).data["spec"]["settings"]
    assert settings["extensions"]["mailgun"] == {
        "apiKey": {"id": "setMailKey01", "label": "API Key", "concealed": True},
        "domain": {"id": "setMailDom01", "label": "Domain", "value": "mg.example.org"},
    }
    assert settings["constants"] == [
        {"id": "constEhrKey1", "key": "EHR_API_KEY", "label": "EHR API key", "concealed": True},
        {
            "id": "constEhrUrl1",
            "key": "EHR_BASE_URL",
            "label": "EHR base URL",
            "value": "https://ehr.example.org",
        },
        {
            "id": "constEhrUrl2",
            "key": "EHR_BASE_URL_2",
            "label": "EHR base-URL",
            "value": "https://ehr2.example.org",
        },
    ]
    assert "settings.extensions.mailgun.apiKey (API Key)" in out
    assert "settings.constants.EHR_API_KEY (EHR API key)" in out


_SETTING_NAMES = st.from_regex(r"[a-z][A-Za-z0-9_]{0,10}", fullmatch=True)


@given(st.dictionaries(_SETTING_NAMES, st.tuples(st.booleans(), st.text(max_size=30)), max_size=6))
def test_obfuscated_settings_never_reach_the_document(values: dict[str, tuple[bool, str]]) -> None:
    components = copy.deepcopy(_MINI_COMPONENTS)
    plugins = components["settings"][0]["pathway_settings"]["plugins"]
    plugins["generated"] = {
        name: {
            "id": f"id-{name}",
            "label": name,
            "obfuscated": hidden,
            "value": ENCRYPTED + text if hidden else text.replace(ENCRYPTED, ""),
        }
        for name, (hidden, text) in values.items()
    }
    result = awell.to_canonical(components)
    assert ENCRYPTED not in json.dumps(result.document) + "".join(result.concealed)
    imported = result.document["spec"]["settings"]["extensions"]["generated"]
    for name, (hidden, _) in values.items():
        if hidden:
            assert imported[name] == {"id": f"id-{name}", "label": name, "concealed": True}
        else:
            assert imported[name]["value"] == plugins["generated"][name]["value"]


def test_real_export_reports_its_four_concealed_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _source("real")
    assert _import(source, tmp_path) == 0
    out = capsys.readouterr().out
    for ref in ("elation.client_secret", "elation.password", "mailgun.apiKey", "awell.apiKey"):
        assert f"settings.extensions.{ref} (" in out


# --- the mapping --------------------------------------------------------------------------------------


@pytest.fixture
def mini_document(tmp_path: Path) -> dict[str, Any]:
    assert _import(MINI, tmp_path) == 0
    data: dict[str, Any] = yamlio.load_file(_flow_file(tmp_path, MINI)).data
    return data


def test_metadata_and_header(mini_document: dict[str, Any]) -> None:
    assert mini_document["apiVersion"] == model.API_VERSION
    assert mini_document["kind"] == model.FLOW_KIND
    assert mini_document["metadata"] == {
        "definition_id": "miniFlow0001",
        "key": "mini-flow-every-component",
        "title": "Mini flow: every component",
        "description": "",
    }
    assert mini_document["spec"]["team_id"] == "team-mini-1"


def test_tracks_nest_steps_actions_and_transitions(mini_document: dict[str, Any]) -> None:
    tracks = {t["id"]: t for t in mini_document["spec"]["tracks"]}
    assert list(tracks) == ["trackMain001", "trackSide001"]
    main_track = tracks["trackMain001"]
    steps = {s["id"]: s for s in main_track["steps"]}
    assert list(steps) == ["stepFollow01", "stepIntake01"]  # sorted by id
    intake = steps["stepIntake01"]
    assert [a["id"] for a in intake["actions"]] == [  # kept in Awell's action_definition_ids order
        "actPlugin001",
        "actForm00001",
        "actMessage01",
        "actChecklst1",
        "actCalc00001",
        "actApiCall01",
    ]
    assert intake["label_definition_ids"] == ["labelUrgent1"]
    assert "type" not in intake and "track_definition_id" not in intake
    assert {t["id"] for t in main_track["transitions"]} == {
        "trStart00001",
        "trIntake0001",
        "trFollowEnd1",
    }
    assert {t["id"] for t in tracks["trackSide001"]["transitions"]} == {
        "trSideStart1",
        "trSideEnd001",
    }
    transition = next(t for t in main_track["transitions"] if t["id"] == "trIntake0001")
    assert transition == {
        "id": "trIntake0001",
        "origin": {"type": "step", "node_id": "stepIntake01"},
        "destination": {"type": "step", "node_id": "stepFollow01"},
        "default": False,
        "rule_definition_id": "ruleHeavy001",
        "timing_definition_id": "timeTwoDays1",
    }
    assert mini_document["layout"] == {
        "steps": {
            "stepFollow01": {"x": 600, "y": 100},
            "stepIntake01": {"x": 300, "y": 100},
            "stepSide0001": {"x": 350, "y": 400},
        },
        "tracks": {
            "trackMain001": {"start": {"x": 100, "y": 100}, "end": {"x": 900, "y": 100}},
            "trackSide001": {"start": {"x": 100, "y": 400}, "end": {"x": 600, "y": 400}},
        },
    }


def _actions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        action["id"]: action
        for track in document["spec"]["tracks"]
        for step in track["steps"]
        for action in step["actions"]
    }


def test_action_types_keep_their_fields_in_snake_case(mini_document: dict[str, Any]) -> None:
    actions = _actions(mini_document)
    assert {a["type"] for a in actions.values()} == set(awell_tables.ACTION_SHAPES)
    plugin = actions["actPlugin001"]
    assert plugin["plugin_fields"][0] == {
        "id": "to",
        "type": "string",
        "label": "To",
        "value": "patient@example.org",
        "required": True,
        "string_type": "email",
    }
    assert plugin["extension_data_points"] == [{"key": "messageId", "value_type": "string"}]
    assert actions["actApiCall01"]["api_call"]["method"] == "POST"
    assert (
        actions["actApiCall01"]["api_call"]["body"]
        == '{\n  "weight": "{{data_point:dpWeight0001}}"\n}'
    )
    assert actions["actGraphql01"]["api_call"]["query"].startswith("query Patient")
    assert actions["actEmr000001"]["emr_report_definition_id"] == "emrReport001"
    assert actions["actNote00001"]["clinical_note_definition_id"] == "noteVisit001"
    assert all("step_definition_id" not in a for a in actions.values())


def test_forms_questions_data_points_and_triggers(mini_document: dict[str, Any]) -> None:
    spec = mini_document["spec"]
    form = spec["forms"][0]
    assert "user_id" not in form
    assert [q["id"] for q in form["questions"]] == ["dpWeight0001", "dpSmoker0001"]
    smoker = form["questions"][1]
    assert smoker["data_point_value_type"] == "boolean"
    assert smoker["user_question_type"] == "yes_no"
    assert smoker["key_manually_modified"] is False
    assert smoker["question_config"] == {
        "recode_enabled": False,
        "mandatory": False,
        "use_select": False,
    }
    assert "form_definition_id" not in smoker
    points = {p["id"]: p for p in spec["data_point_definitions"]}
    assert points["dpWeight0001"]["possible_values"] == []  # explicitly empty in Awell: kept
    assert "possible_values" not in points["dpMrn0000001"]  # absent in Awell: absent
    assert points["dpMrn0000001"]["metadata"] == [
        {"key": "system", "value": "https://example.org/mrn"}
    ]
    assert points["dpWeight0001"]["value_type"] == "number"
    assert points["dpWeight0001"]["range"] == {"min": 0, "max": 500}
    triggers = {t["id"]: t for t in spec["triggers"]}
    assert triggers["trigSide0001"]["target"] == {"type": "track", "id": "trackSide001"}
    assert triggers["trigSide0001"]["timer"] == {"delay": {"amount": 3, "unit": "hour"}}
    assert "pathway_id" not in triggers["trigSide0001"]
    assert "pathway_definition_id" not in spec["extension_webhooks"][0]


def test_message_body_is_kept_exactly(mini_document: dict[str, Any]) -> None:
    original = json.loads((MINI / "messages" / "messages.json").read_text("utf-8"))[0]["message"]
    message = mini_document["spec"]["messages"][0]
    assert message["body"] == original["body"]
    assert message["html_body"] == original["html_body"]


def test_no_volatile_field_anywhere(mini_document: dict[str, Any]) -> None:
    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for item in value.values() for k in keys(item)}
        if isinstance(value, list):
            return {k for item in value for k in keys(item)}
        return set()

    found = keys(mini_document)
    assert not found & {"created", "last_updated", "user_id", "_key", "pathway_settings"}


def test_schemas_are_copied_once(tmp_path: Path) -> None:
    assert _import(MINI, tmp_path) == 0
    schema = tmp_path / "schemas" / "careflow.v1.schema.json"
    if not schema.exists():
        pytest.skip("the package has no careflow schema yet")
    schema.write_text("{}", "utf-8")
    assert _import(MINI, tmp_path, "--force") == 0
    assert schema.read_text("utf-8") == "{}"  # an existing schema is the repository's own


# --- keys ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("jb - source control - ✅", "jb-source-control"),
        ("Évaluation PHQ-9", "evaluation-phq-9"),
        ("  --Hello__World--  ", "hello-world"),
        ("✅ 🚀", ""),
        ("x" * 70 + " tail", "x" * 63),
        ("a" * 62 + " b", "a" * 62),
    ],
)
def test_slug(title: str, expected: str) -> None:
    assert awell.slug(title) == expected


@given(st.text())
def test_slug_is_a_flow_key_or_empty(title: str) -> None:
    key = awell.slug(title)
    assert key == "" or model.FLOW_KEY_PATTERN.match(key)


@given(st.lists(st.text(), max_size=8))
def test_constant_keys_are_upper_snake_and_unique(labels: list[str]) -> None:
    taken: set[str] = set()
    keys = [awell.constant_key(label, taken) for label in labels]
    assert len(set(keys)) == len(keys)
    assert all(model.CONSTANT_KEY_PATTERN.match(key) for key in keys)


def test_constant_key_examples() -> None:
    taken: set[str] = set()
    assert awell.constant_key("EHR base URL", taken) == "EHR_BASE_URL"
    assert awell.constant_key("ehr-base url", taken) == "EHR_BASE_URL_2"
    assert awell.constant_key("EHR base URL!", taken) == "EHR_BASE_URL_3"
    assert awell.constant_key("2FA code", taken) == "C_2FA_CODE"
    assert awell.constant_key("", taken) == "CONSTANT"


def test_explicit_key(tmp_path: Path) -> None:
    assert _import(MINI, tmp_path, "--key", "intake") == 0
    assert yamlio.load_file(tmp_path / "flows/intake/flow.yaml").data["metadata"]["key"] == "intake"


@pytest.mark.parametrize("key", ["../evil", "Upper", "-dash", "a" * 64, ""])
def test_invalid_key_is_refused(key: str, tmp_path: Path) -> None:
    assert _import(MINI, tmp_path, "--key", key) == 1
    assert _files_under(tmp_path) == {}


def test_title_without_a_slug_asks_for_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _mutated(
        tmp_path, "pathways", lambda entries: entries[0]["pathway"].update(title="✅")
    )
    assert _import(source, tmp_path / "repo") == 1
    assert "--key" in capsys.readouterr().err
    assert not (tmp_path / "repo").exists()


def test_existing_flow_is_not_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(MINI, tmp_path) == 0
    path = _flow_file(tmp_path, MINI)
    path.write_text("edited\n", "utf-8")
    assert _import(MINI, tmp_path) == 1
    assert "--force" in capsys.readouterr().err
    assert path.read_text("utf-8") == "edited\n"
    assert _import(MINI, tmp_path, "--force") == 0
    assert path.read_text("utf-8") != "edited\n"


def test_same_care_flow_under_another_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(MINI, tmp_path) == 0
    assert _import(MINI, tmp_path, "--key", "other", "--force") == 1
    assert "mini-flow-every-component" in capsys.readouterr().err
    assert not (tmp_path / "flows" / "other").exists()


# --- bad input ------------------------------------------------------------------------------------------


def _mutated(tmp_path: Path, folder: str, change: Callable[[list[Any]], Any]) -> Path:
    """A copy of the mini export with one component file changed."""
    target = tmp_path / "export"
    shutil.copytree(MINI, target)
    file = target / folder / f"{folder}.json"
    entries = json.loads(file.read_text("utf-8"))
    change(entries)
    file.write_text(json.dumps(entries, indent=2), "utf-8")
    return target


def _set(entries: list[Any], key: str, field: str, value: Any) -> None:
    for entry in entries:
        for name, payload in entry.items():
            if name != "type" and payload["_key"] == key:
                payload[field] = value


def _set_nested_plugin_field(entries: list[Any]) -> None:
    for entry in entries:
        if entry["action"]["_key"] == "actPlugin001":
            entry["action"]["plugin_fields"][0]["secretField"] = "x"


BAD_INPUTS: dict[str, tuple[str, Callable[[list[Any]], Any], list[str]]] = {
    "unknown component type": (
        "actions",
        lambda e: e.append({"type": "widget", "widget": {"_key": "w1", "definition_id": "w1"}}),
        ["actions/actions.json", "`_key` w1", "unknown component type `widget`"],
    ),
    "component in the wrong file": (
        "labels",
        lambda e: e.append({"type": "track", "track": {"_key": "t9", "definition_id": "t9"}}),
        ["labels/labels.json", "t9", "tracks/tracks.json"],
    ),
    "key differs from definition id": (
        "labels",
        lambda e: _set(e, "labelUrgent1", "definition_id", "labelOther01"),
        ["labels/labels.json", "labelUrgent1", "labelOther01"],
    ),
    "action of a missing step": (
        "actions",
        lambda e: _set(e, "actForm00001", "step_definition_id", "stepGone0001"),
        ["actions/actions.json", "actForm00001", "stepGone0001"],
    ),
    "step listing a missing action": (
        "steps",
        lambda e: _set(e, "stepSide0001", "action_definition_ids", ["actGone"]),
        ["steps/steps.json", "stepSide0001", "actGone"],
    ),
    "step of a missing track": (
        "steps",
        lambda e: _set(e, "stepSide0001", "track_definition_id", "trackGone001"),
        ["steps/steps.json", "stepSide0001", "trackGone001"],
    ),
    "transition to a missing step": (
        "transitions",
        lambda e: _set(
            e, "trSideEnd001", "destination", {"type": "step", "node_id": "stepGone0001"}
        ),
        ["transitions/transitions.json", "trSideEnd001", "stepGone0001"],
    ),
    "a wrongly typed field": (  # issue #15, item 6: it used to be written, and fail `validate`
        "labels",
        lambda e: _set(e, "labelUrgent1", "color", 5),
        ["labels/labels.json", "label `labelUrgent1`, field `color`", "must be a string"],
    ),
    "a wrongly typed renamed field": (
        "data_point_definitions",
        lambda e: _set(e, "dpWeight0001", "valueType", ["number"]),
        ["data_point_definitions.json", "`dpWeight0001`, field `valueType`", "must be a string"],
    ),
    "a wrongly typed nested field": (
        "actions",
        lambda e: next(x for x in e if x["action"]["_key"] == "actPlugin001")["action"][
            "plugin_fields"
        ][0].update(required="yes"),
        ["actions/actions.json", "action `actPlugin001`, field `plugin_fields[0].required`"],
    ),
    "question of a missing form": (
        "questions",
        lambda e: _set(e, "dpSmoker0001", "form_definition_id", "formGone0001"),
        ["questions/questions.json", "dpSmoker0001", "formGone0001"],
    ),
    "trigger of another care flow": (
        "triggers",
        lambda e: _set(e, "trigStart001", "pathway_id", "otherFlow001"),
        ["triggers/triggers.json", "trigStart001", "otherFlow001"],
    ),
    "encrypted value not marked obfuscated": (
        "settings",
        lambda e: e[0]["pathway_settings"]["plugins"]["mailgun"]["apiKey"].update(obfuscated=False),
        ["spec.settings.extensions.mailgun.apiKey.value", "encrypted"],
    ),
    "entry that is not an object": (
        "rules",
        lambda e: e.insert(0, "rule"),
        ["rules/rules.json", "entry 0", "not a JSON object"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_and_nothing_is_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, change, expected = BAD_INPUTS[case]
    source = _mutated(tmp_path, folder, change)
    repo = tmp_path / "repo"
    assert _import(source, repo) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, (text, err)
    assert ENCRYPTED not in err and "CANARY" not in err
    assert not repo.exists()


def test_not_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "export.json"
    file.write_text("[]", "utf-8")
    assert _import(file, tmp_path / "repo") == 1
    assert "is not a folder" in capsys.readouterr().err
    assert _import(tmp_path / "missing", tmp_path / "repo") == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "repo").exists()


def test_missing_required_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "export"
    shutil.copytree(MINI, source)
    shutil.rmtree(source / "pathways")
    assert _import(source, tmp_path / "repo") == 1
    assert "pathways/pathways.json" in capsys.readouterr().err
    (source / "pathways").mkdir()
    assert _import(source, tmp_path / "repo") == 1
    assert "pathways/pathways.json" in capsys.readouterr().err
    assert not (tmp_path / "repo").exists()


CARRIED: dict[str, tuple[str, Callable[[list[Any]], Any], tuple[Any, ...], Any]] = {
    "an unknown field": (
        "labels",
        lambda e: _set(e, "labelUrgent1", "colour", "red"),
        ("spec", "labels", "labelUrgent1", "vendor_fields", "colour"),
        "red",
    ),
    "an unknown nested field": (
        "actions",
        _set_nested_plugin_field,
        ("spec", "tracks", "trackMain001", "steps", "stepIntake01", "actions", "actPlugin001"),
        None,
    ),
    "an unknown setting field": (
        "settings",
        lambda e: e[0]["pathway_settings"]["plugins"]["mailgun"]["domain"].update(hint="x"),
        ("spec", "settings", "extensions", "mailgun", "domain", "vendor_fields", "hint"),
        "x",
    ),
    "a step of another type": (
        "steps",
        lambda e: _set(e, "stepSide0001", "type", "branch"),
        ("spec", "tracks", "trackSide001", "steps", "stepSide0001", "vendor_fields", "type"),
        "branch",
    ),
    "an action type syncer does not model": (
        "actions",
        lambda e: _set(e, "actForm00001", "type", "teleport"),
        ("spec", "tracks", "trackMain001", "steps", "stepIntake01", "actions", "actForm00001"),
        None,
    ),
    "a field next to the entry's type": (
        "labels",
        lambda e: e[0].update(revision=3),
        ("spec", "labels", "labelUrgent1", "vendor_entry_fields", "revision"),
        3,
    ),
}


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    """Follow a path of keys and ids (a list item is named by its id)."""
    for part in path:
        if isinstance(document, list):
            document = next(item for item in document if item.get("id") == part)
        else:
            document = document[part]
    return document


@pytest.mark.parametrize("case", sorted(CARRIED))
def test_what_syncer_does_not_model_is_carried_and_given_back(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing is refused or lost for being unknown (SPEC 3): it lands under vendor_fields, the
    file validates, and export-awell writes it back exactly."""
    folder, change, path, value = CARRIED[case]
    source = _mutated(tmp_path, folder, change)
    repo, out = tmp_path / "repo", tmp_path / "out"
    assert _import(source, repo) == 0, capsys.readouterr().err
    document = yamlio.load_file(_flow_file(repo, MINI)).data
    found = _at(document, path)
    if value is not None:
        assert found == value
    assert main(["validate", "--repo", str(repo)]) == 0
    assert main(["export-awell", KEYS[MINI], str(out), "--repo", str(repo)]) == 0
    original, exported = _components(source), _components(out)
    assert sorted(exported) == sorted(original)
    for key, component in original.items():
        assert exported[key] == component, key
    assert json.loads((out / folder / f"{folder}.json").read_text("utf-8")) != []


def test_a_component_file_syncer_does_not_model_is_carried(tmp_path: Path) -> None:
    source = tmp_path / "export"
    shutil.copytree(MINI, source)
    (source / "widgets").mkdir()
    entries = [
        {"type": "widget", "widget": {"_key": "w2", "definition_id": "w2", "size": [1, None]}},
        {"type": "widget", "widget": {"_key": "w1", "definition_id": "w1", "created": {"x": 1}}},
    ]
    (source / "widgets" / "widgets.json").write_text(json.dumps(entries), "utf-8")
    repo, out = tmp_path / "repo", tmp_path / "out"
    assert _import(source, repo) == 0
    spec = yamlio.load_file(_flow_file(repo, MINI)).data["spec"]
    assert [e["widget"]["_key"] for e in spec["vendor_components"]["widgets"]] == ["w2", "w1"]
    assert "created" not in spec["vendor_components"]["widgets"][1]["widget"]  # volatile
    assert main(["export-awell", KEYS[MINI], str(out), "--repo", str(repo)]) == 0
    written = json.loads((out / "widgets" / "widgets.json").read_text("utf-8"))
    assert written == [
        entries[0],
        {"type": "widget", "widget": {"_key": "w1", "definition_id": "w1"}},
    ]


@pytest.mark.parametrize(
    ("folder", "why"),
    [("Widgets", "folder name"), ("widgets", "unsafe `_key`"), ("gadgets", "appears twice")],
)
def test_a_carried_component_file_with_unsafe_names_is_refused(
    folder: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "export"
    shutil.copytree(MINI, source)
    (source / folder).mkdir()
    key = "../x" if folder == "widgets" else "g1"
    entry = {"type": "gadget", "gadget": {"_key": key, "definition_id": key}}
    entries = [entry, entry] if folder == "gadgets" else [entry]
    (source / folder / f"{folder}.json").write_text(json.dumps(entries), "utf-8")
    assert _import(source, tmp_path / "repo") == 1
    err = capsys.readouterr().err
    assert f"{folder}/{folder}.json" in err and why in err
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"type": "label",', "invalid JSON"),
        ('[{"type": "label", "type": "label"}]', "appears twice"),
        ("[NaN]", "not a JSON number"),
    ],
)
def test_invalid_json_names_the_file(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "export"
    shutil.copytree(MINI, source)
    (source / "labels" / "labels.json").write_text(text, "utf-8")
    assert _import(source, tmp_path / "repo") == 1
    err = capsys.readouterr().err
    assert "labels/labels.json" in err and message in err
    assert not (tmp_path / "repo").exists()


def test_export_of_a_missing_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-awell", "nope", str(tmp_path / "out"), "--repo", str(tmp_path)]) == 1
    assert "flows/nope/flow.yaml" in capsys.readouterr().err
    assert main(["export-awell", "../x", str(tmp_path / "out"), "--repo", str(tmp_path)]) == 1
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_field_awell_does_not_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(MINI, tmp_path) == 0
    path = _flow_file(tmp_path, MINI)
    data = yamlio.load_file(path).data
    data["spec"]["labels"][0]["shade"] = "dark"
    path.write_text(yamlio.dump(data, model.flow_file_header()), "utf-8")
    out = tmp_path / "out"
    assert main(["export-awell", KEYS[MINI], str(out), "--repo", str(tmp_path)]) == 1
    assert "spec.labels[labelUrgent1].shade" in capsys.readouterr().err
    assert not out.exists()
