"""Hypothesis strategies: valid care-flow documents (docs/flow-format.md) with awkward content.

``careflows()`` draws a whole flow: several tracks whose steps are all reachable from the track start, every
action type, rules over data points, constants (visible and concealed), extension settings, forms with
questions, messages and clinical notes with multi-line bodies and placeholders that resolve, and strings
that are hard for YAML (unicode, quotes, colons, a leading ``#``, numbers and ``yes`` as strings, empty).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Whole flows are big by nature; 60 examples keep a property test file well under 30 seconds.
FLOW_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.large_base_example, HealthCheck.too_slow],
)

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

TRICKY_STRINGS = [
    "",
    " ",
    "yes",
    "No",
    "on",
    "off",
    "true",
    "null",
    "~",
    "123",
    "0123",
    "1e3",
    "0x1F",
    "1_000",
    "2024-01-01",
    "12:30",
    "#not a comment",
    "- not a list",
    "key: value",
    "a, b",
    "[x]",
    "{y}",
    "&anchor",
    "*alias",
    "!tag",
    "|",
    ">",
    "@",
    "`code`",
    "%",
    "'single'",
    '"double"',
    "back\\slash",
    "tab\there",
    " leading space",
    "trailing space ",
    "ünïcödé",
    "日本語のテキスト",
    "emoji 😀",
    "zero\u200bwidth",
    "nbsp\u00a0here",
    "{{ not a placeholder }}",
    "https://example.org/a?b=c&d=e#f",
]

_PLAIN_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
TEXT = st.one_of(st.sampled_from(TRICKY_STRINGS), _PLAIN_TEXT)
SHORT = st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(max_size=10))
VALUE_TYPES = ["string", "number", "boolean", "date", "telephone", "strings_array", "json"]
SCALARS = st.one_of(
    TEXT, st.integers(-(10**6), 10**6), st.booleans(), st.none(), st.floats(-1e6, 1e6)
)


class _Ids:
    """Fresh ids, unique within one flow, from one drawn seed (cheap; their sort order varies)."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.random = draw(st.randoms(use_true_random=False))
        self.used: set[str] = set()

    def new(self) -> str:
        while True:
            size = self.random.randint(3, 12)
            value = "".join(self.random.choice(ID_ALPHABET) for _ in range(size))
            if value not in self.used:
                self.used.add(value)
                return value


@st.composite
def multiline(draw: st.DrawFn, placeholders: list[str] | None = None) -> str:
    """A text of several lines, some with placeholders, maybe with a trailing newline."""
    lines = draw(st.lists(TEXT.map(lambda s: s.replace("\n", " ")), min_size=1, max_size=5))
    if placeholders:
        lines.append(draw(st.sampled_from(placeholders)))
    text = "\n".join(lines)
    return text + draw(st.sampled_from(["", "\n", "\n\n"]))


def _constants(draw: st.DrawFn, ids: _Ids) -> list[dict[str, Any]]:
    keys = draw(
        st.lists(st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), unique=True, max_size=4)
    )
    constants = []
    for key in keys:
        item: dict[str, Any] = {"id": ids.new(), "key": key, "label": draw(TEXT)}
        if draw(st.booleans()):
            item["concealed"] = True
        else:
            item["value"] = draw(SCALARS)
        constants.append(item)
    return constants


def _extensions(draw: st.DrawFn, ids: _Ids) -> dict[str, Any]:
    names = draw(
        st.lists(st.from_regex(r"[a-z][a-zA-Z0-9_]{0,8}", fullmatch=True), unique=True, max_size=2)
    )
    extensions: dict[str, Any] = {}
    for name in names:
        settings = draw(
            st.lists(
                st.from_regex(r"[a-z][a-zA-Z_]{0,8}", fullmatch=True),
                unique=True,
                min_size=1,
                max_size=3,
            )
        )
        extensions[name] = {}
        for setting in settings:
            item: dict[str, Any] = {"id": ids.new(), "label": draw(TEXT)}
            if draw(st.booleans()):
                item["concealed"] = True
            else:
                item["value"] = draw(SCALARS)
            extensions[name][setting] = item
    return extensions


def _data_points(draw: st.DrawFn, ids: _Ids) -> list[dict[str, Any]]:
    points = []
    for _ in range(draw(st.integers(1, 4))):
        point: dict[str, Any] = {
            "id": ids.new(),
            "key": draw(SHORT),
            "category": draw(st.sampled_from(["pathway", "patient_profile", "calculation"])),
            "value_type": draw(st.sampled_from(VALUE_TYPES)),
            "source_definition_id": ids.new(),
            "qualified_key": draw(SHORT),
        }
        if draw(st.booleans()):
            point["possible_values"] = [{"label": draw(TEXT), "value": draw(SHORT)}]
            point["optional"] = draw(st.booleans())
            point["range"] = {"min": 0, "max": draw(st.integers(1, 100))}
            point["metadata"] = [{"key": "system", "value": draw(TEXT)}]
        points.append(point)
    return points


def _forms(
    draw: st.DrawFn, ids: _Ids, rules: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Forms with questions, and the data point definition of each question (same id, as in Awell)."""
    forms, points = [], []
    for _ in range(draw(st.integers(0, 2))):
        form_id = ids.new()
        questions = []
        for _ in range(draw(st.integers(1, 3))):
            question_id = ids.new()
            question: dict[str, Any] = {
                "id": question_id,
                "key": draw(SHORT),
                "title": draw(TEXT),
                "data_point_value_type": "number",
                "question_type": "multiple_choice",
                "user_question_type": "multiple_choice",
                "options": [
                    {"id": ids.new(), "value": str(i), "label": draw(TEXT)}
                    for i in range(draw(st.integers(0, 3)))
                ],
                "question_config": {"recode_enabled": False, "mandatory": draw(st.booleans())},
            }
            if rules and draw(st.booleans()):
                question["rule_definition_id"] = draw(st.sampled_from(rules))
            questions.append(question)
            points.append(
                {
                    "id": question_id,
                    "key": "",
                    "category": "form",
                    "value_type": "number",
                    "source_definition_id": form_id,
                    "qualified_key": "form.q",
                }
            )
        forms.append(
            {"id": form_id, "key": draw(SHORT), "title": draw(TEXT), "questions": questions}
        )
    return forms, points


def _placeholders(
    constant_keys: list[str], data_points: list[str], variables: list[str]
) -> list[str]:
    return (
        [f"Call {{{{constants.{key}}}}} now" for key in constant_keys]
        + [f"Score: {{{{data_point:{point}}}}}" for point in data_points]
        + [f"Hello {{{{{{dynamic_variable:{variable}}}}}}}!" for variable in variables]
    )


@st.composite
def careflows(draw: st.DrawFn) -> dict[str, Any]:
    """A valid care-flow document (not canonicalized: lists come in the order they were drawn)."""
    ids = _Ids(draw)
    constants = _constants(draw, ids)
    points = _data_points(draw, ids)
    point_ids = [p["id"] for p in points]
    rules = [_rule(draw, ids, point_ids) for _ in range(draw(st.integers(0, 3)))]
    rule_ids = [r["id"] for r in rules]
    forms, form_points = _forms(draw, ids, rule_ids)
    points += form_points
    variables = [
        {
            "id": ids.new(),
            "label": draw(TEXT),
            "data_point_definition_id": draw(st.sampled_from(point_ids)),
            "data_point_property": "value",
            "fallback": draw(TEXT),
            "transformations": [],
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    context = _Context(
        ids=ids,
        points=point_ids,
        rules=rule_ids,
        timings=[ids.new() for _ in range(draw(st.integers(0, 2)))],
        forms=[f["id"] for f in forms],
        stakeholders=[ids.new() for _ in range(draw(st.integers(1, 3)))],
        placeholders=_placeholders(
            [c["key"] for c in constants], point_ids, [v["id"] for v in variables]
        ),
    )
    messages = [
        _message(draw, context, constants, variables) for _ in range(draw(st.integers(0, 2)))
    ]
    context.messages = [m["id"] for m in messages]
    notes = [_clinical_note(draw, context) for _ in range(draw(st.integers(0, 1)))]
    context.notes = [n["id"] for n in notes]
    webhooks = [
        {
            "id": ids.new(),
            "extension": "elation",
            "webhook_key": draw(SHORT),
            "endpoint_url": draw(TEXT),
        }
        for _ in range(draw(st.integers(0, 1)))
    ]
    context.webhooks = [w["id"] for w in webhooks]
    tracks = [_track(draw, context) for _ in range(draw(st.integers(1, 3)))]
    definition_id = ids.new()
    return {
        "apiVersion": "syncer.careflow/v1",
        "kind": "CareFlow",
        "metadata": {
            "definition_id": definition_id,
            "key": draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
            "title": draw(TEXT),
            "description": draw(st.one_of(TEXT, multiline())),
        },
        "spec": {
            "team_id": draw(SHORT),
            "settings": {
                "reminders": {
                    "amount": draw(st.integers(0, 3)),
                    "delay": {"amount": 1, "unit": "day"},
                },
                "constants": constants,
                "extensions": _extensions(draw, ids),
            },
            "stakeholders": [
                {"id": s, "label": {"en": draw(TEXT)}, "clinical_app_role": draw(SHORT)}
                for s in context.stakeholders
            ],
            "labels": [
                {"id": ids.new(), "color": "blue", "text": draw(TEXT)}
                for _ in range(draw(st.integers(0, 2)))
            ],
            "tracks": tracks,
            "rules": rules,
            "triggers": [_trigger(draw, context, t) for t in tracks],
            "timings": [
                {"id": t, "delay": {"amount": draw(st.integers(0, 9)), "unit": "hour"}}
                for t in context.timings
            ],
            "data_point_definitions": points,
            "dynamic_variables": variables,
            "forms": forms,
            "messages": messages,
            "clinical_notes": notes,
            "extension_webhooks": webhooks,
        },
        "layout": _layout(draw, tracks),
    }


class _Context:
    """The ids that references may point at, filled as the flow is drawn."""

    def __init__(self, **known: Any) -> None:
        self.ids: _Ids = known["ids"]
        self.points: list[str] = known["points"]
        self.rules: list[str] = known["rules"]
        self.timings: list[str] = known["timings"]
        self.forms: list[str] = known["forms"]
        self.stakeholders: list[str] = known["stakeholders"]
        self.placeholders: list[str] = known["placeholders"]
        self.messages: list[str] = []
        self.notes: list[str] = []
        self.webhooks: list[str] = []


def _rule(draw: st.DrawFn, ids: _Ids, points: list[str]) -> dict[str, Any]:
    conditions = []
    for _ in range(draw(st.integers(0, 2))):
        operand = draw(
            st.one_of(
                st.none(),
                st.builds(
                    lambda v: {"type": "number", "value": v}, st.sampled_from(["10", "0", "-1"])
                ),
            )
        )
        conditions.append(
            {
                "id": ids.new(),
                "reference": draw(st.sampled_from(points)),
                "operator": "is_less_than",
                "operand": operand,
            }
        )
    return {
        "id": ids.new(),
        "boolean_operator": draw(st.sampled_from(["and", "or"])),
        "conditions": conditions,
    }


def _message(
    draw: st.DrawFn,
    context: _Context,
    constants: list[dict[str, Any]],
    variables: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": context.ids.new(),
        "subject": draw(TEXT),
        "format": "html",
        "body": draw(multiline(context.placeholders)),
        "html_body": draw(multiline(context.placeholders)),
        "attachments": None,
        "dynamic_variable_definition_ids": [v["id"] for v in variables[:1]],
        "constant_ids": [c["id"] for c in constants[:1]],
    }


def _clinical_note(draw: st.DrawFn, context: _Context) -> dict[str, Any]:
    narrative = {
        "id": context.ids.new(),
        "key": draw(SHORT),
        "title": draw(TEXT),
        "body": draw(multiline(context.placeholders)),
        "html_body": draw(multiline()),
        "constant_ids": [],
        "dynamic_variable_ids": [],
        "stakeholder_ids": context.stakeholders[:1],
    }
    return {"id": context.ids.new(), "narratives": [narrative], "context": []}


def _action(draw: st.DrawFn, context: _Context) -> dict[str, Any]:
    kinds = ["checklist", "calculation", "api_call", "api_call_graphql", "push_to_emr", "plugin"]
    kinds += ["form"] * bool(context.forms) + ["message"] * bool(context.messages)
    kinds += ["clinical_note"] * bool(context.notes)
    kind = draw(st.sampled_from(kinds))
    action: dict[str, Any] = {
        "id": context.ids.new(),
        "type": kind,
        "title": draw(TEXT),
        "stakeholder_definition_ids": draw(
            st.lists(st.sampled_from(context.stakeholders), max_size=2, unique=True)
        ),
        "location_definition_ids": [],
    }
    action.update(_action_fields(draw, context, kind))
    return action


def _action_fields(draw: st.DrawFn, context: _Context, kind: str) -> dict[str, Any]:
    point = draw(st.sampled_from(context.points))
    headers = [{"key": "Authorization", "value": draw(st.sampled_from(context.placeholders))}]
    mappings = [{"response_key": "data.score", "data_point_definition_id": point}]
    fields: dict[str, dict[str, Any]] = {
        "form": {
            "form_definition_id": draw(st.sampled_from(context.forms or ["-"])),
            "form_display_mode": "regular",
        },
        "message": {"message_definition_id": draw(st.sampled_from(context.messages or ["-"]))},
        "clinical_note": {
            "clinical_note_definition_id": draw(st.sampled_from(context.notes or ["-"]))
        },
        "checklist": {"checklist": draw(st.lists(TEXT, max_size=3))},
        "calculation": {
            "calculation_definition_id": "phq_9",
            "calculation_inputs": [
                {"calculation_input_id": "Q1", "data_point_definition_id": point}
            ],
        },
        "api_call": {
            "api_call": {
                "method": "POST",
                "endpoint": draw(st.sampled_from(context.placeholders)),
                "headers": headers,
                "body": draw(multiline(context.placeholders)),
                "mappings": mappings,
            }
        },
        "api_call_graphql": {
            "api_call": {
                "endpoint": "https://x",
                "headers": headers,
                "query": draw(multiline()),
                "mappings": mappings,
            }
        },
        "push_to_emr": {"emr_report_definition_id": context.ids.new()},
        "plugin": {
            "plugin_key": "elation",
            "plugin_action_key": "getPatient",
            "plugin_fields": [
                {
                    "id": "patientId",
                    "label": draw(TEXT),
                    "type": "string",
                    "required": draw(st.booleans()),
                    "value": draw(st.sampled_from(context.placeholders)),
                    "options": {"data_point_definition_ids": [point]},
                }
            ],
            "extension_data_points": [{"key": "firstName", "value_type": "string"}],
            "extension_data_point_mappings": [
                {
                    "id": context.ids.new(),
                    "extension_data_point_key": "firstName",
                    "data_point_definition_id": point,
                }
            ],
        },
    }
    return fields[kind]


def _track(draw: st.DrawFn, context: _Context) -> dict[str, Any]:
    """A track whose steps are all reachable: step i is entered from the start or an earlier step."""
    track_id = context.ids.new()
    steps = [
        {
            "id": context.ids.new(),
            "key": draw(SHORT),
            "title": draw(TEXT),
            "label_definition_ids": [],
            "actions": [_action(draw, context) for _ in range(draw(st.integers(0, 2)))],
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    transitions = []
    for index, step in enumerate(steps):
        origin_index = draw(st.integers(-1, index - 1))
        origin = (
            {"type": "track_start", "node_id": track_id}
            if origin_index < 0
            else {"type": "step", "node_id": steps[origin_index]["id"]}
        )
        transitions.append(
            _transition(draw, context, origin, {"type": "step", "node_id": step["id"]})
        )
    last = {"type": "step", "node_id": steps[-1]["id"]}
    transitions.append(_transition(draw, context, last, {"type": "track_end", "node_id": track_id}))
    if draw(st.booleans()):
        steps[0]["documentation"] = {"format": "slate", "content": {"en": draw(multiline())}}
    return {
        "id": track_id,
        "key": draw(SHORT),
        "title": draw(TEXT),
        "steps": steps,
        "transitions": transitions,
    }


def _transition(
    draw: st.DrawFn, context: _Context, origin: dict[str, str], destination: dict[str, str]
) -> dict[str, Any]:
    transition: dict[str, Any] = {
        "id": context.ids.new(),
        "origin": origin,
        "destination": destination,
        "default": draw(st.booleans()),
    }
    if context.rules and draw(st.booleans()):
        transition["rule_definition_id"] = draw(st.sampled_from(context.rules))
    if context.timings and draw(st.booleans()):
        transition["timing_definition_id"] = draw(st.sampled_from(context.timings))
    return transition


def _trigger(draw: st.DrawFn, context: _Context, track: dict[str, Any]) -> dict[str, Any]:
    choices: list[dict[str, Any]] = [
        {"type": "pathway_started"},
        {"type": "ad_hoc"},
        {
            "type": "data_point_collected",
            "data_point_definition_id": draw(st.sampled_from(context.points)),
        },
        {"type": "track_completed", "track_id": track["id"]},
        {"type": "step_completed", "step_id": track["steps"][0]["id"]},
    ]
    if context.webhooks:
        choices.append({"type": "extension_webhook", "extension_webhook_id": context.webhooks[0]})
    settings = draw(st.sampled_from(choices))
    if context.rules and draw(st.booleans()):
        settings = {**settings, "rule_id": draw(st.sampled_from(context.rules))}
    trigger: dict[str, Any] = {
        "id": context.ids.new(),
        "target": {"type": "track", "id": track["id"]},
        "settings": settings,
    }
    if draw(st.booleans()):
        trigger["timer"] = {"delay": {"amount": draw(st.integers(1, 30)), "unit": "day"}}
    return trigger


def _layout(draw: st.DrawFn, tracks: list[dict[str, Any]]) -> dict[str, Any]:
    coordinate = st.one_of(
        st.integers(-2000, 2000), st.floats(-2000, 2000).map(lambda f: round(f, 2))
    )
    point = st.builds(lambda x, y: {"x": x, "y": y}, coordinate, coordinate)
    return {
        "tracks": {t["id"]: {"start": draw(point), "end": draw(point)} for t in tracks},
        "steps": {s["id"]: draw(point) for t in tracks for s in t["steps"]},
    }
