"""A seeded generator of realistic synthetic care flows, for benchmarks and tests.

``generate_flow(seed, steps)`` returns a canonical care-flow document (docs/flow-format.md) that is valid and
self-consistent: every reference resolves, every step is reachable from its track start, constants are
UPPER_SNAKE with one concealed, and every track and step has layout coordinates. The same arguments always
give the same document (``random.Random`` seeded with a string is stable across runs and platforms), so a
benchmark or a failing test can be reproduced from its seed alone.

The shape follows what real Awell flows look like: tracks of 10 to 50 steps, one to four actions per step
(forms, messages, checklists, calculations, API calls, clinical notes), a chain of transitions with branches
guarded by rules on collected data points, some transitions and triggers delayed by timers.

    python -m bench.generate --count 20 --steps 200 --seed 7 /tmp/repo   # writes /tmp/repo/flows/*/flow.yaml
"""

from __future__ import annotations

import argparse
import html
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncer import canonical, model, yamlio

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MIN_TRACK_STEPS = 10
MAX_TRACK_STEPS = 50
ACTION_TYPES = ("form", "message", "checklist", "calculation", "api_call", "clinical_note")
ACTION_WEIGHTS = (30, 25, 20, 8, 9, 8)
# The lists directly under ``spec``, each present even when empty: the id-sorted lists of the canonical
# form, less those nested in tracks (steps, transitions) and in settings (constants).
SPEC_LISTS = canonical.SORTED_LISTS - {"steps", "transitions", "constants"}

CONDITIONS = (
    "Heart failure home monitoring",
    "Type 2 diabetes follow-up",
    "COPD exacerbation follow-up",
    "Hip replacement recovery",
    "Prenatal care",
    "Asthma control",
    "Chronic kidney disease monitoring",
    "Oncology symptom monitoring",
    "Post-stroke rehabilitation",
    "Anticoagulation management",
)
TRACK_THEMES = (
    "Onboarding",
    "Monitoring",
    "Education",
    "Medication management",
    "Escalation",
    "Follow-up",
    "Transition of care",
    "Lifestyle coaching",
)
STEP_TITLES = (
    "Intake call",
    "Medication review",
    "Vital signs check",
    "Symptom questionnaire",
    "Education session",
    "Lab results review",
    "Care plan update",
    "Follow-up call",
    "Home visit",
    "Discharge planning",
    "Specialist referral",
    "Nutrition counselling",
    "Physiotherapy session",
    "Pain check",
    "Sleep assessment",
    "Mood check-in",
    "Adherence check",
    "Telehealth visit",
    "Care coordinator review",
    "Goal setting",
)
CHECKLIST_ITEMS = (
    "Confirm the patient's identity",
    "Review the current medication list",
    "Check for new allergies",
    "Record blood pressure and heart rate",
    "Explain the next steps to the patient",
    "Update the care plan",
    "Book the next appointment",
    "Send a summary to the general practitioner",
    "Check the patient has the right equipment at home",
    "Ask about side effects",
    "Screen for falls risk",
    "Document the conversation",
)
# (key, title, kind, extra): kinds are slider/number (number), yes_no (boolean), mc (number), long_text.
QUESTIONS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("painScore", "How bad is your pain right now?", "slider", {"min": 0, "max": 10}),
    ("systolic", "Systolic blood pressure", "number", {"min": 60, "max": 260, "unit": "mmHg"}),
    ("weight", "Your weight this morning", "number", {"min": 30, "max": 250, "unit": "kg"}),
    ("heartRate", "Resting heart rate", "number", {"min": 30, "max": 220, "unit": "bpm"}),
    ("glucose", "Fasting blood glucose", "number", {"min": 2, "max": 30, "unit": "mmol/L"}),
    ("breathless", "Are you more short of breath than usual?", "yes_no", {}),
    ("medsTaken", "Did you take all your medication today?", "yes_no", {}),
    ("callBack", "Would you like a call from the care team?", "yes_no", {}),
    (
        "health",
        "How would you rate your health today?",
        "mc",
        {"labels": ("Excellent", "Good", "Fair", "Poor")},
    ),
    (
        "fatigue",
        "How often did you feel tired in the last week?",
        "mc",
        {"labels": ("Never", "Sometimes", "Often", "Always")},
    ),
    ("notes", "Anything else you want to tell your care team?", "long_text", {}),
)
CALCULATIONS: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("bmi", ("WEIGHT", "HEIGHT"), (("BMI", "number"),)),
    (
        "gad_7",
        tuple(f"GAD7_Q0{n}" for n in range(1, 8)),
        (("GAD7_SCORE", "number"), ("GAD7_INTERPRETATION", "string")),
    ),
    ("egfr_ckd_epi", ("CREATININE", "AGE", "SEX"), (("EGFR", "number"),)),
    (
        "news2",
        ("RESP_RATE", "SPO2", "SYSTOLIC", "PULSE", "TEMPERATURE"),
        (("NEWS2_SCORE", "number"),),
    ),
)
OPTIONAL_CONSTANTS = (
    ("CLINIC_PHONE", "Clinic phone", "+44 20 7946 0000"),
    ("SUPPORT_EMAIL", "Support email", "care-team@example.org"),
    ("PORTAL_URL", "Patient portal URL", "https://portal.example.org"),
    ("CARE_TEAM_NAME", "Care team name", "Community care team"),
)


@dataclass
class _Flow:
    """Everything a flow under construction holds, and the few indexes the generator needs."""

    rng: random.Random
    definition_id: str = ""
    used_ids: set[str] = field(default_factory=set)
    spec: dict[str, list[Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    layout: dict[str, dict[str, Any]] = field(default_factory=lambda: {"tracks": {}, "steps": {}})
    stakeholders: dict[str, str] = field(default_factory=dict)
    constants: list[tuple[str, str]] = field(default_factory=list)  # (id, key), visible ones
    numbers: list[tuple[str, int, int]] = field(default_factory=list)  # (dp id, min, max)
    booleans: list[str] = field(default_factory=list)
    calculations: dict[str, list[str]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def new_id(self) -> str:
        """A fresh 12-character url-safe id, unique in the flow."""
        while True:
            candidate = "".join(self.rng.choices(ID_ALPHABET, k=12))
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def count(self, what: str) -> int:
        """1, 2, 3, ... per kind of thing: keeps titles and keys unique and readable."""
        self.counters[what] = self.counters.get(what, 0) + 1
        return self.counters[what]

    def add(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        self.spec.setdefault(kind, []).append(item)
        return item


def generate_flow(seed: int, steps: int, key: str | None = None) -> dict[str, Any]:
    """Return a valid canonical care-flow document with ``steps`` steps, the same for the same arguments."""
    if steps < 1:
        raise ValueError("a care flow needs at least one step")
    flow_key = key or f"synthetic-{seed}-{steps}"
    if not model.FLOW_KEY_PATTERN.match(flow_key):
        raise ValueError(f"{flow_key!r} is not a valid flow key")
    flow = _Flow(rng=random.Random(f"syncer-bench:{seed}:{steps}:{flow_key}"))
    flow.definition_id = flow.new_id()
    for kind in sorted(SPEC_LISTS):
        flow.spec[kind] = []
    _settings(flow)
    _people(flow)
    tracks = [_track(flow, index, size) for index, size in enumerate(_track_sizes(flow.rng, steps))]
    _triggers(flow, tracks)
    condition = flow.rng.choice(CONDITIONS)
    document = {
        "apiVersion": model.API_VERSION,
        "kind": model.FLOW_KIND,
        "metadata": {
            "definition_id": flow.definition_id,
            "key": flow_key,
            "title": f"{condition} ({seed})",
            "description": f"Synthetic {condition.lower()} pathway with {steps} steps, generated from seed {seed}.",
        },
        "spec": {"settings": flow.settings, **flow.spec},
        "layout": flow.layout,
    }
    return canonical.canonicalize(document)  # type: ignore[no-any-return]


def generate_repo(root: Path, count: int, steps: int, seed: int) -> list[Path]:
    """Write ``count`` generated flows as ``root/flows/<key>/flow.yaml``; return the paths written."""
    written = []
    for index in range(count):
        key = f"synthetic-{seed}-{index:04d}"
        document = generate_flow(seed * 1_000_003 + index, steps, key=key)
        path = root / "flows" / key / "flow.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yamlio.dump(document, model.flow_file_header()), encoding="utf-8")
        written.append(path)
    return written


# --- settings and people ---------------------------------------------------------------------------


def _settings(flow: _Flow) -> None:
    rng = flow.rng
    flow.settings["reminders"] = {
        "amount": rng.randint(0, 3),
        "delay": {"amount": rng.choice((1, 12, 24)), "unit": "hour"},
    }
    constants: list[dict[str, Any]] = [
        {
            "id": flow.new_id(),
            "key": "EHR_BASE_URL",
            "label": "EHR base URL",
            "value": "https://ehr.sandbox.example.org",
        },
        {"id": flow.new_id(), "key": "EHR_API_KEY", "label": "EHR API key", "concealed": True},
    ]
    for key, label, value in rng.sample(
        OPTIONAL_CONSTANTS, rng.randint(1, len(OPTIONAL_CONSTANTS))
    ):
        constants.append({"id": flow.new_id(), "key": key, "label": label, "value": value})
    flow.settings["constants"] = constants
    flow.constants = [(c["id"], c["key"]) for c in constants if not c.get("concealed")]
    if rng.random() < 0.5:
        flow.settings["extensions"] = {
            "elation": {
                "base_url": {
                    "id": flow.new_id(),
                    "label": "Base URL",
                    "value": "https://sandbox.elationemr.com/api/2.0",
                },
                "client_secret": {"id": flow.new_id(), "label": "Client Secret", "concealed": True},
            }
        }


def _people(flow: _Flow) -> None:
    for role in ("Patient", "Physician", "Nurse"):
        sid = flow.new_id()
        flow.stakeholders[role] = sid
        flow.add("stakeholders", {"id": sid, "label": {"en": role}, "clinical_app_role": role})
    for color, text in (("red", "Escalation"), ("blue", "Follow-up"), ("green", "Education")):
        flow.add("labels", {"id": flow.new_id(), "color": color, "text": text})


def _track_sizes(rng: random.Random, steps: int) -> list[int]:
    """Split ``steps`` into tracks of 10-50 steps (a flow under 20 steps is one track)."""
    sizes: list[int] = []
    remaining = steps
    while remaining > 0:
        if remaining < 2 * MIN_TRACK_STEPS:
            size = remaining
        else:
            size = rng.randint(MIN_TRACK_STEPS, min(MAX_TRACK_STEPS, remaining - MIN_TRACK_STEPS))
        sizes.append(size)
        remaining -= size
    return sizes


# --- tracks, steps, transitions --------------------------------------------------------------------


def _track(flow: _Flow, index: int, size: int) -> dict[str, Any]:
    rng = flow.rng
    number = flow.count("track")
    theme = TRACK_THEMES[index % len(TRACK_THEMES)]
    track_id = flow.new_id()
    track: dict[str, Any] = {
        "id": track_id,
        "key": f"{theme.lower().replace(' ', '')}{number}",
        "title": f"{theme} {number}",
        "steps": [],
        "transitions": [],
    }
    flow.add("tracks", track)
    top = 250 + index * 600
    parents: list[int] = []
    for position in range(size):
        if position:
            parents.append(
                position - 1
                if rng.random() < 0.75
                else rng.randint(max(0, position - 4), position - 1)
            )
        track["steps"].append(_step(flow))
    depth = [0] * size
    for position in range(1, size):
        depth[position] = depth[parents[position - 1]] + 1
    rows: dict[int, int] = {}
    for position, step in enumerate(track["steps"]):
        row = rows[depth[position]] = rows.get(depth[position], -1) + 1
        flow.layout["steps"][step["id"]] = {"x": 500 + depth[position] * 260, "y": top + row * 160}
    flow.layout["tracks"][track_id] = {
        "start": {"x": 250, "y": top},
        "end": {"x": 500 + (max(depth) + 1) * 260, "y": top},
    }
    _transitions(flow, track, parents)
    _lifecycle_data_points(flow, track_id, track["key"], "track")
    return track


def _step(flow: _Flow) -> dict[str, Any]:
    rng = flow.rng
    number = flow.count("step")
    title = rng.choice(STEP_TITLES)
    step: dict[str, Any] = {
        "id": flow.new_id(),
        "key": f"{title[0].lower()}{title[1:].replace(' ', '').replace('-', '')}{number}",
        "title": f"{title} {number}",
        "label_definition_ids": [],
        "actions": [],
    }
    if rng.random() < 0.1:
        step["label_definition_ids"] = [rng.choice(flow.spec["labels"])["id"]]
    if rng.random() < 0.15:
        text = f"Carried out by the care team as part of {title.lower()}."
        step["documentation"] = {"format": "slate", "content": {"en": _slate([text])}}
    for _ in range(rng.randint(1, 4)):
        (kind,) = rng.choices(ACTION_TYPES, weights=ACTION_WEIGHTS)
        step["actions"].append(_action(flow, kind))
    return step


def _transitions(flow: _Flow, track: dict[str, Any], parents: list[int]) -> None:
    """start → step 0; each later step from its parent; branches guarded by rules; leaves → end."""
    rng = flow.rng
    steps = track["steps"]
    track["transitions"].append(
        {
            "id": flow.new_id(),
            "origin": _node("track_start", track["id"]),
            "destination": _node("step", steps[0]["id"]),
            "default": False,
        }
    )
    children: dict[int, list[int]] = {}
    for child, parent in enumerate(parents, start=1):
        children.setdefault(parent, []).append(child)
    for position, step in enumerate(steps):
        origin = _node("step", step["id"])
        targets = [_node("step", steps[c]["id"]) for c in children.get(position, [])]
        if not targets or rng.random() < 0.05:
            targets.append(_node("track_end", track["id"]))
        branching = len(targets) > 1
        for n, destination in enumerate(targets):
            transition: dict[str, Any] = {
                "id": flow.new_id(),
                "origin": origin,
                "destination": destination,
            }
            if branching and n < len(targets) - 1 and (flow.numbers or flow.booleans):
                transition["rule_definition_id"] = _rule(flow)
            if rng.random() < 0.2:
                transition["timing_definition_id"] = _timing(flow)
            transition["default"] = branching and n == len(targets) - 1
            track["transitions"].append(transition)


def _node(kind: str, node_id: str) -> dict[str, str]:
    return {"type": kind, "node_id": node_id}


def _rule(flow: _Flow) -> str:
    """A rule on a collected data point: a numeric threshold, or a yes/no answer."""
    rng = flow.rng
    conditions = []
    for _ in range(1 if rng.random() < 0.8 else 2):
        if flow.numbers and (not flow.booleans or rng.random() < 0.7):
            dp, low, high = rng.choice(flow.numbers)
            operator = rng.choice(
                ("is_greater_than_or_equal_to", "is_less_than", "is_greater_than")
            )
            operand: dict[str, str] | None = {
                "type": "number",
                "value": str(rng.randint(low, high)),
            }
        else:
            dp, operator, operand = (
                rng.choice(flow.booleans),
                rng.choice(("is_true", "is_false")),
                None,
            )
        conditions.append(
            {"id": flow.new_id(), "reference": dp, "operator": operator, "operand": operand}
        )
    rule = {
        "id": flow.new_id(),
        "boolean_operator": rng.choice(("and", "or")),
        "conditions": conditions,
    }
    return str(flow.add("rules", rule)["id"])


def _timing(flow: _Flow) -> str:
    amount, unit = flow.rng.choice(
        ((1, "day"), (3, "day"), (1, "week"), (2, "week"), (4, "hour"), (1, "month"))
    )
    return str(
        flow.add("timings", {"id": flow.new_id(), "delay": {"amount": amount, "unit": unit}})["id"]
    )


def _triggers(flow: _Flow, tracks: list[dict[str, Any]]) -> None:
    """The first track starts with the pathway; the others on data, on completion, or on demand."""
    rng = flow.rng
    for index, track in enumerate(tracks):
        trigger: dict[str, Any] = {
            "id": flow.new_id(),
            "target": {"type": "track", "id": track["id"]},
        }
        previous = tracks[index - 1] if index else None
        choice = rng.random()
        if previous is None:
            trigger["settings"] = {"type": "pathway_started"}
        elif choice < 0.35 and flow.numbers:
            dp = rng.choice(flow.numbers)[0]
            trigger["settings"] = {
                "type": "data_point_collected",
                "data_point_definition_id": dp,
                "rule_id": _rule(flow),
            }
        elif choice < 0.55:
            trigger["settings"] = {"type": "track_completed", "track_id": previous["id"]}
            trigger["timer"] = {"delay": {"amount": rng.randint(1, 4), "unit": "week"}}
        elif choice < 0.75:
            step = rng.choice(previous["steps"])
            trigger["settings"] = {"type": "step_completed", "step_id": step["id"]}
        elif choice < 0.85 and flow.numbers:
            dp = rng.choice(flow.numbers)[0]
            trigger["settings"] = {
                "type": "data_point_not_collected",
                "data_point_definition_id": dp,
            }
            trigger["timer"] = {"delay": {"amount": rng.randint(1, 7), "unit": "day"}}
        else:
            trigger["settings"] = {"type": "ad_hoc"}
        flow.add("triggers", trigger)


# --- actions and what they refer to ----------------------------------------------------------------


def _action(flow: _Flow, kind: str) -> dict[str, Any]:
    rng = flow.rng
    if kind == "calculation" and not flow.numbers:
        kind = "checklist"
    role = (
        "Patient"
        if kind in ("form", "message") and rng.random() < 0.8
        else rng.choice(("Physician", "Nurse"))
    )
    action: dict[str, Any] = {
        "id": flow.new_id(),
        "type": kind,
        "title": "",
        "stakeholder_definition_ids": []
        if kind in ("calculation", "api_call")
        else [flow.stakeholders[role]],
        "location_definition_ids": [],
    }
    if kind == "form":
        # Real flows reuse a form (the same check-in at day 3 and day 14), which also bounds the file size.
        reuse = flow.spec["forms"] and rng.random() < 0.35
        form = rng.choice(flow.spec["forms"]) if reuse else _form(flow)
        action.update(title=form["title"], form_definition_id=form["id"])
        action["form_display_mode"] = rng.choice(("conversational", "regular"))
    elif kind == "message":
        message = _message(flow)
        action.update(title=message["subject"], message_definition_id=message["id"])
    elif kind == "checklist":
        action.update(title="Checklist", checklist=rng.sample(CHECKLIST_ITEMS, rng.randint(2, 5)))
    elif kind == "calculation":
        name, inputs, _outputs = rng.choice(CALCULATIONS)
        _calculation_data_points(flow, name)
        action.update(title=f"Calculate {name.upper()}", calculation_definition_id=name)
        action["calculation_inputs"] = [
            {"calculation_input_id": i, "data_point_definition_id": rng.choice(flow.numbers)[0]}
            for i in inputs
        ]
    elif kind == "api_call":
        action.update(title="Send observation to EHR", api_call=_api_call(flow))
    else:
        note = _clinical_note(flow)
        action.update(title="Clinical note", clinical_note_definition_id=note)
    return action


def _form(flow: _Flow) -> dict[str, Any]:
    rng = flow.rng
    number = flow.count("form")
    form_id = flow.new_id()
    form: dict[str, Any] = {
        "id": form_id,
        "key": f"checkIn{number}",
        "title": f"Check-in {number}",
        "questions": [],
    }
    for key, title, kind, extra in rng.sample(QUESTIONS, rng.randint(1, 4)):
        form["questions"].append(_question(flow, form, key, title, kind, extra))
    return flow.add("forms", form)


def _question(
    flow: _Flow, form: dict[str, Any], key: str, title: str, kind: str, extra: dict[str, Any]
) -> dict[str, Any]:
    question_id = flow.new_id()
    mandatory = kind != "long_text"
    config: dict[str, Any] = {"recode_enabled": False, "mandatory": mandatory}
    options: list[dict[str, str]] = []
    value_type = {"yes_no": "boolean", "long_text": "string"}.get(kind, "number")
    data_point: dict[str, Any] = {
        "id": question_id,
        "key": "",
        "category": "form",
        "value_type": value_type,
        "source_definition_id": form["id"],
        "qualified_key": f"{form['key']}.{key}",
        "possible_values": [],
        "optional": not mandatory,
    }
    if kind == "mc":
        config["use_select"] = False
        for value, label in enumerate(extra["labels"]):
            options.append({"id": flow.new_id(), "value": str(value), "label": label})
            data_point["possible_values"].append({"label": label, "value": json.dumps(str(value))})
        flow.numbers.append((question_id, 0, len(options) - 1))
    elif kind in ("slider", "number"):
        low, high = extra["min"], extra["max"]
        if kind == "slider":
            config["slider"] = {"min": low, "max": high, "step_value": 1, "display_marks": True}
        else:
            config["number"] = {"range": {"enabled": True, "min": low, "max": high}}
        data_point["range"] = {"min": low, "max": high}
        if "unit" in extra:
            data_point["unit"] = extra["unit"]
        flow.numbers.append((question_id, low, high))
    elif kind == "yes_no":
        flow.booleans.append(question_id)
    flow.add("data_point_definitions", data_point)
    question_type = "multiple_choice" if kind == "mc" else "input"
    return {
        "id": question_id,
        "key": key,
        "title": title,
        "data_point_value_type": value_type,
        "question_type": question_type,
        "user_question_type": "multiple_choice" if kind == "mc" else kind,
        "options": options,
        "question_config": config,
    }


def _message(flow: _Flow) -> dict[str, Any]:
    rng = flow.rng
    number = flow.count("message")
    constant_ids: list[str] = []
    paragraphs = [
        "Hello,",
        rng.choice(
            (
                "This is a reminder about the next part of your care plan.",
                "Thank you for completing your check-in. Your care team has received your answers.",
                "Please read the information below before your next appointment.",
            )
        ),
    ]
    if rng.random() < 0.5:
        constant_id, key = rng.choice(flow.constants)
        constant_ids.append(constant_id)
        paragraphs.append(f"If you have questions, use {{{{constants.{key}}}}}.")
    if flow.numbers and rng.random() < 0.3:
        paragraphs.append(
            f"Your latest reading was {{{{data_point:{rng.choice(flow.numbers)[0]}}}}}."
        )
    paragraphs.append("Kind regards, your care team")
    message = {
        "id": flow.new_id(),
        "subject": f"Your care plan update {number}",
        "format": "html",
        "body": _slate(paragraphs),
        "html_body": "\n".join(
            f'<p class="slate-p">{html.escape(p, quote=False)}</p>' for p in paragraphs
        ),
        "attachments": None,
        "dynamic_variable_definition_ids": [],
        "constant_ids": constant_ids,
    }
    return flow.add("messages", message)


def _calculation_data_points(flow: _Flow, name: str) -> None:
    if name in flow.calculations:
        return
    outputs = next(o for n, _i, o in CALCULATIONS if n == name)
    flow.calculations[name] = []
    for output, value_type in outputs:
        dp_id = f"{name}.{output}"
        flow.calculations[name].append(dp_id)
        flow.add(
            "data_point_definitions",
            {
                "id": dp_id,
                "key": dp_id,
                "category": "calculation",
                "value_type": value_type,
                "source_definition_id": name,
                "qualified_key": dp_id,
                "possible_values": [],
            },
        )
        if value_type == "number":
            flow.numbers.append((dp_id, 0, 30))


def _api_call(flow: _Flow) -> dict[str, Any]:
    number = flow.count("api_call")
    target = flow.add(
        "data_point_definitions",
        {
            "id": flow.new_id(),
            "key": f"ehr_observation_id_{number}",
            "category": "pathway",
            "value_type": "string",
            "source_definition_id": flow.definition_id,
            "qualified_key": f"ehr_observation_id_{number}",
            "optional": True,
        },
    )
    call: dict[str, Any] = {
        "method": "POST",
        "endpoint": "{{constants.EHR_BASE_URL}}/fhir/Observation",
        "headers": [
            {"key": "Authorization", "value": "Bearer {{constants.EHR_API_KEY}}"},
            {"key": "Content-Type", "value": "application/fhir+json"},
        ],
        "mappings": [{"response_key": "id", "data_point_definition_id": target["id"]}],
    }
    if flow.numbers:
        value = flow.rng.choice(flow.numbers)[0]
        call["body"] = (
            '{\n  "resourceType": "Observation",\n  "status": "final",\n'
            f'  "valueQuantity": {{"value": {{{{data_point:{value}}}}}}}\n}}'
        )
    return call


def _clinical_note(flow: _Flow) -> str:
    narratives = []
    dynamic: list[str] = []
    if flow.numbers:
        dp = flow.rng.choice(flow.numbers)[0]
        variable = flow.add(
            "dynamic_variables",
            {
                "id": flow.new_id(),
                "label": "Latest reading",
                "data_point_definition_id": dp,
                "data_point_property": "value",
                "fallback": "not recorded",
                "transformations": [],
            },
        )
        dynamic.append(variable["id"])
    for key, title in (("assessment", "Assessment"), ("plan", "Plan"))[: flow.rng.randint(1, 2)]:
        text = "Reviewed with the patient."
        if dynamic and key == "assessment":
            text = f"Latest reading: {{{{{{dynamic_variable:{dynamic[0]}}}}}}}."
        narratives.append(
            {
                "id": flow.new_id(),
                "key": key,
                "title": title,
                "body": _slate([text]),
                "html_body": f'<p class="slate-p">{html.escape(text, quote=False)}</p>',
                "constant_ids": [],
                "dynamic_variable_ids": dynamic if key == "assessment" else [],
                "stakeholder_ids": [flow.stakeholders["Physician"]],
            }
        )
    return str(
        flow.add("clinical_notes", {"id": flow.new_id(), "narratives": narratives, "context": []})[
            "id"
        ]
    )


def _lifecycle_data_points(flow: _Flow, source: str, key: str, category: str) -> None:
    """Awell's automatic ActivationDate/CompletionDate data points of a track or step."""
    for suffix, name in (("ACTIVATION", "ActivationDate"), ("COMPLETION", "CompletionDate")):
        flow.add(
            "data_point_definitions",
            {
                "id": f"{source}-{suffix}",
                "key": name,
                "category": category,
                "value_type": "date",
                "source_definition_id": source,
                "qualified_key": f"{key}.{name}",
            },
        )


def _slate(paragraphs: list[str]) -> str:
    nodes = [{"type": "p", "children": [{"text": p}]} for p in paragraphs]
    return json.dumps(nodes, ensure_ascii=False, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    """Write a repository of generated flows (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("root", type=Path, help="the repository to write flows/ into")
    parser.add_argument("--count", type=int, default=10, help="how many flows (default 10)")
    parser.add_argument("--steps", type=int, default=100, help="steps per flow (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="the seed (default 1)")
    args = parser.parse_args(argv)
    for path in generate_repo(args.root, args.count, args.steps, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
