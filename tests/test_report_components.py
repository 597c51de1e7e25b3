"""Every change in words, one golden file per component type.

Each case edits a real example flow (``flows/``) the way Studio would, plans it with the real
``classify`` (live = the flow as syncer last wrote it, desired = the edited flow) and renders the
report a reviewer reads. The golden files in ``tests/golden/components/`` are read by people:
regenerate them with ``SYNCER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report_components.py``
and read the diff before committing. Beyond the goldens, every rendering is held to the rules that
made reports unreadable before: no JSON excerpt, rules named in words, no "after 4 week".
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer import yamlio
from syncer.canonical import shape_hash
from syncer.model import (
    ANN_APPLIED_REVISION,
    ANN_LAST_APPLIED_HASH,
    Environment,
    EnvironmentPlan,
    FlowPlan,
    Role,
    Status,
)
from syncer.plan import classify
from syncer.report import render_environment_markdown, render_text

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "components"
ENV = Environment("production-eu", Role.TARGET, "eu", "http://127.0.0.1:1", "KEY", None)
Edit = Callable[[dict[str, Any]], None]


def _flow(key: str) -> dict[str, Any]:
    data: dict[str, Any] = yamlio.load_file(ROOT / "flows" / key / "flow.yaml").data
    return data


def _items(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every component of a document (actions inside steps inside tracks, questions in forms)."""
    spec = document["spec"]
    for track in spec.get("tracks", []):
        yield track
        for step in track.get("steps", []):
            yield step
            yield from step.get("actions", [])
        yield from track.get("transitions", [])
    for name, items in spec.items():
        if isinstance(items, list) and name != "tracks":
            for item in items:
                yield item
                yield from item.get("questions", []) if isinstance(item, dict) else []


def _find(document: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(item for item in _items(document) if item.get("id") == ident)


def _plan(key: str, edit: Edit) -> FlowPlan:
    live = _flow(key)
    desired = copy.deepcopy(live)
    edit(desired)
    annotations = {ANN_LAST_APPLIED_HASH: shape_hash(live), ANN_APPLIED_REVISION: "3"}
    body = {"definition": live, "annotations": annotations, "revision": 3}
    plan = classify(key, desired, body, ENV, lambda _variable: False)
    assert plan.status is Status.UPDATE, plan.status
    return plan


# -- the edits, one per component type ----------------------------------------------------------------


def _api_call(d: dict[str, Any]) -> None:
    call = _find(d, "VOSE9HvLmJ_r")["api_call"]
    call["method"] = "POST"
    call["endpoint"] = call["endpoint"].replace("/fhir/Patient?", "/fhir/Patient/_search?")
    call["headers"][0]["value"] = "Bearer {{constants.EHR_API_KEY}} sk_live_typed_by_hand"
    call["headers"].append({"key": "X-Request-Source", "value": "syncer-care-flow"})
    call["body"] = '{\n  "identifier": "{{data_point:vNie3rMeZyZh}}"\n}'
    call["mappings"][0]["response_key"] = "entry[0].resource.identifier"


def _api_call_body(d: dict[str, Any]) -> None:
    call = _find(d, "5jfjQyp1gJ37")["api_call"]
    call["body"] = call["body"].replace('"status": "final"', '"status": "preliminary"')


def _rule(d: dict[str, Any]) -> None:
    rule = _find(d, "9LPMx0gJdzdq")
    rule["conditions"][0]["operand"]["value"] = "170"
    rule["conditions"].pop(2)
    rule["boolean_operator"] = "and"


def _trigger(d: dict[str, Any]) -> None:
    trigger = _find(d, "__0c2UboHKzE")
    trigger["settings"]["data_point_definition_id"] = "tr3o_mZ51Dns"
    trigger["timer"] = {"delay": {"amount": 2, "unit": "day"}}


def _timing(d: dict[str, Any]) -> None:
    _find(d, "X44Tpjm7IXRd")["delay"] = {"amount": 6, "unit": "week"}


def _plugin(d: dict[str, Any]) -> None:
    fields = _find(d, "31JepLVsWTsB")["plugin_fields"]
    fields[1]["value"] = fields[1]["value"].replace("alert threshold", "alerting threshold")
    fields[2]["required"] = True
    fields.append(
        {
            "id": "priority",
            "type": "string",
            "label": "Priority",
            "value": "high",
            "required": False,
        }
    )


def _vendor_fields(d: dict[str, Any]) -> None:
    d["spec"]["tracks"][0]["steps"][0]["vendor_fields"] = {"archived": False, "color": "teal"}


def _step(d: dict[str, Any]) -> None:
    _find(d, "1MOr7Siq6Vz4")["title"] = "Four-week nurse review"


def _transition(d: dict[str, Any]) -> None:
    edges = [t for track in d["spec"]["tracks"] for t in track["transitions"]]
    edge = next(t for t in edges if t.get("rule_definition_id") == "yGMT1thSbiSf")
    edge["rule_definition_id"] = "9LPMx0gJdzdq"
    timed = next(t for t in edges if t.get("timing_definition_id"))
    del timed["timing_definition_id"]


def _message(d: dict[str, Any]) -> None:
    message = d["spec"]["messages"][0]
    message["subject"] = message["subject"] + " (updated)"
    message["html_body"] = message["html_body"].replace("</p>", " Thank you.</p>", 1)


def _question(d: dict[str, Any]) -> None:
    question = d["spec"]["forms"][0]["questions"][0]
    question["title"] = question["title"] + " (at rest)"
    question["question_config"]["mandatory"] = not question["question_config"]["mandatory"]


def _data_point(d: dict[str, Any]) -> None:
    point = next(p for p in d["spec"]["data_point_definitions"] if p.get("key"))
    point["value_type"] = "string" if point["value_type"] != "string" else "number"


def _constant(d: dict[str, Any]) -> None:
    constants = d["spec"]["settings"]["constants"]
    constants[0]["label"] = constants[0]["label"] + " (v2)"
    constants.append(
        {
            "id": "NEWCONST001",
            "key": "CLINIC_PHONE",
            "label": "Clinic phone",
            "value": "+32 2 000 00 00",
        }
    )


def _extension_setting(d: dict[str, Any]) -> None:
    elation = d["spec"]["settings"]["extensions"]["elation"]
    first = sorted(elation)[0]
    elation[first]["label"] = "Renamed setting"


def _reminders(d: dict[str, Any]) -> None:
    d["spec"]["settings"]["reminders"] = {"amount": 3, "delay": {"amount": 2, "unit": "day"}}


def _checklist(d: dict[str, Any]) -> None:
    _find(d, "CUnePoMGqQV5")["checklist"].append("Check the cuff size")


def _calculation(d: dict[str, Any]) -> None:
    inputs = _find(d, "Cpex5Q8qCPjH")["calculation_inputs"]
    inputs[0]["data_point_definition_id"], inputs[1]["data_point_definition_id"] = (
        inputs[1]["data_point_definition_id"],
        inputs[0]["data_point_definition_id"],
    )


def _clinical_note(d: dict[str, Any]) -> None:
    narrative = d["spec"]["clinical_notes"][0]["narratives"][0]
    narrative["title"] = narrative["title"] + " (clinician)"


def _extension_webhook(d: dict[str, Any]) -> None:
    hook = d["spec"]["extension_webhooks"][0]
    hook["endpoint_url"] = hook["endpoint_url"] + "/v2"


def _dynamic_variable(d: dict[str, Any]) -> None:
    d["spec"]["dynamic_variables"][0]["fallback"] = "your care team"


def _stakeholder_and_label(d: dict[str, Any]) -> None:
    d["spec"]["stakeholders"][0]["label"] = {"en": "Patient (self)"}
    d["spec"]["labels"][0]["text"] = "Urgent follow-up"


def _track(d: dict[str, Any]) -> None:
    d["spec"]["tracks"][0]["title"] = d["spec"]["tracks"][0]["title"] + " (home)"


def _flow_metadata(d: dict[str, Any]) -> None:
    d["metadata"]["description"] = "Blood pressure readings at home, with escalation."


BP, DS = "remote-bp-monitoring", "depression-screening"
CASES: dict[str, tuple[str, Edit]] = {
    "api-call": (BP, _api_call),
    "api-call-body": (BP, _api_call_body),
    "rule": (BP, _rule),
    "trigger": (BP, _trigger),
    "timing": (BP, _timing),
    "plugin-fields": (BP, _plugin),
    "vendor-fields": (BP, _vendor_fields),
    "step": (BP, _step),
    "transition": (BP, _transition),
    "message": (BP, _message),
    "question": (BP, _question),
    "data-point": (BP, _data_point),
    "constant": (BP, _constant),
    "extension-setting": (BP, _extension_setting),
    "reminders": (BP, _reminders),
    "checklist": (BP, _checklist),
    "calculation": (DS, _calculation),
    "clinical-note": (DS, _clinical_note),
    "extension-webhook": (BP, _extension_webhook),
    "dynamic-variable": (DS, _dynamic_variable),
    "stakeholder-and-label": (BP, _stakeholder_and_label),
    "track": (BP, _track),
    "flow": (BP, _flow_metadata),
}


def _rendered(name: str) -> tuple[str, str]:
    key, edit = CASES[name]
    plan = EnvironmentPlan("production-eu", "4f1c2a9e0b7d3c5a8e6f", [_plan(key, edit)])
    return render_environment_markdown(plan), render_text([plan])


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SYNCER_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with SYNCER_UPDATE_GOLDEN=1 and read it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the module docstring"


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_component_type_reads_in_words(name: str) -> None:
    markdown, text = _rendered(name)
    _check_golden(f"{name}.md", markdown)
    for rendering in (markdown, text):
        prose = re.sub(r"```.*?```", "", rendering, flags=re.S)  # diffs may hold JSON bodies
        assert not re.search(r"“(\[|\{(?!\{))", prose), "a structure was shown as a JSON excerpt"
        assert "sk_live_typed_by_hand" not in rendering, "a credential in a header was shown"
        assert not re.search(r"\b(\d+) (second|minute|hour|day|week|month|year)\b", prose) or all(
            n == "1"
            for n, _ in re.findall(r"\b(\d+) (second|minute|hour|day|week|month|year)\b", prose)
        ), "a plural unit was left singular"


def test_an_api_call_names_its_parts_and_masks_a_typed_credential() -> None:
    markdown, _ = _rendered("api-call")
    assert "method: “GET” → “POST”" in markdown
    assert "URL changed:" in markdown or "- URL:" in markdown
    assert "header `Authorization`" in markdown and "(masked)" in markdown
    assert "{{constants.EHR\\_API\\_KEY}}" in markdown or "{{constants.EHR_API_KEY}}" in markdown
    assert "header `X-Request-Source` added" in markdown
    assert "```diff" in markdown  # the body, as a diff


def test_a_rule_reads_as_its_conditions_with_data_points_by_title_and_key() -> None:
    markdown, text = _rendered("rule")
    assert "conditions changed:" in markdown
    assert "≥ 170" in markdown and "≥ 180" in markdown
    assert "9LPMx0gJdzdq" not in text, "a rule was named by its id"


def test_timers_say_weeks_and_days() -> None:
    assert "after 6 weeks" in _rendered("timing")[0]
    assert "after 4 weeks" in _rendered("timing")[0]
    assert "after 2 days" in _rendered("trigger")[0]


def test_a_vendor_field_is_named_by_its_name() -> None:
    markdown, _ = _rendered("vendor-fields")
    assert "Awell field `archived` (kept as is) added: no" in markdown
    assert "Awell field `color` (kept as is) added: “teal”" in markdown


def test_a_renamed_step_shows_old_and_new_title_in_the_diagram() -> None:
    markdown, _ = _rendered("step")
    assert "Four-week review → Four-week nurse review #40;changed#41;" in markdown
