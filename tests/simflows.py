"""Small care flows for simulator tests, built in a few lines and valid by ``syncer validate``.

``flow(...)`` wraps tracks, rules, triggers, data points, forms and timings into a canonical document;
the other helpers build one component each, with readable ids (the id doubles as the title unless one
is given). ``case(...)`` builds a simulator case from plain tuples.
"""

from __future__ import annotations

import itertools
from typing import Any

from syncer.testcases import Activity, Answer, Case, Delay

STAKEHOLDER = "patient"


def point(point_id: str, value_type: str = "number", category: str = "pathway") -> dict[str, Any]:
    return {
        "id": point_id,
        "key": point_id,
        "category": category,
        "value_type": value_type,
        "source_definition_id": "flow-1",
        "qualified_key": point_id,
    }


def condition(
    reference: str, operator: str, value: Any = None, kind: str = "number"
) -> dict[str, Any]:
    operand = None if value is None else {"type": kind, "value": value}
    return {
        "id": f"c-{reference}-{operator}",
        "reference": reference,
        "operator": operator,
        "operand": operand,
    }


def rule(rule_id: str, *conditions: dict[str, Any], either: bool = False) -> dict[str, Any]:
    return {
        "id": rule_id,
        "boolean_operator": "or" if either else "and",
        "conditions": list(conditions),
    }


def checklist(action_id: str, title: str | None = None) -> dict[str, Any]:
    return {
        "id": action_id,
        "type": "checklist",
        "title": title or action_id,
        "checklist": ["Do it"],
        "stakeholder_definition_ids": [STAKEHOLDER],
        "location_definition_ids": [],
    }


def form_action(action_id: str, form_id: str, title: str | None = None) -> dict[str, Any]:
    return {
        "id": action_id,
        "type": "form",
        "title": title or action_id,
        "form_definition_id": form_id,
        "stakeholder_definition_ids": [STAKEHOLDER],
        "location_definition_ids": [],
    }


def form(
    form_id: str, *questions: tuple[str, str], title: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A form of ``(question key, value type)`` questions, and the data points its answers become."""
    built, points = [], []
    for key, value_type in questions:
        question_id = f"{form_id}-{key}"
        built.append(
            {
                "id": question_id,
                "key": key,
                "title": key,
                "data_point_value_type": value_type,
                "question_type": "input",
                "user_question_type": "number" if value_type == "number" else "short_text",
                "options": [],
                "question_config": {"mandatory": False},
            }
        )
        entry = point(question_id, value_type, "form")
        entry["key"], entry["qualified_key"], entry["source_definition_id"] = (
            "",
            f"{form_id}.{key}",
            form_id,
        )
        points.append(entry)
    return {"id": form_id, "key": form_id, "title": title or form_id, "questions": built}, points


def step(step_id: str, *actions: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    return {
        "id": step_id,
        "key": step_id,
        "title": title or step_id,
        "actions": list(actions),
        "label_definition_ids": [],
    }


def go(
    transition_id: str,
    origin: str,
    destination: str,
    *,
    rule_id: str | None = None,
    timing: str | None = None,
    default: bool = False,
    track: str | None = None,
) -> dict[str, Any]:
    """A transition; ``origin`` ``"start"`` and ``destination`` ``"end"`` mean the track's (``track``)."""
    data: dict[str, Any] = {
        "id": transition_id,
        "origin": {"type": "track_start", "node_id": track}
        if origin == "start"
        else {"type": "step", "node_id": origin},
        "destination": {"type": "track_end", "node_id": track}
        if destination == "end"
        else {"type": "step", "node_id": destination},
        "default": default,
    }
    if rule_id:
        data["rule_definition_id"] = rule_id
    if timing:
        data["timing_definition_id"] = timing
    return data


def track(
    track_id: str,
    steps: list[dict[str, Any]],
    transitions: list[dict[str, Any]],
    title: str | None = None,
) -> dict[str, Any]:
    return {
        "id": track_id,
        "key": track_id,
        "title": title or track_id,
        "steps": steps,
        "transitions": transitions,
    }


def chain(track_id: str, *step_ids: str, title: str | None = None) -> dict[str, Any]:
    """A track start -> step 1 -> ... -> end, steps without actions."""
    nodes = ["start", *step_ids, "end"]
    transitions = [
        go(f"{track_id}-t{i}", a, b, track=track_id)
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    ]
    return track(track_id, [step(s) for s in step_ids], transitions, title)


def trigger(
    trigger_id: str,
    target: str,
    kind: str = "pathway_started",
    timer: Delay | None = None,
    **settings: str,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": trigger_id,
        "target": {"type": "track", "id": target},
        "settings": {"type": kind, **settings},
    }
    if timer is not None:
        data["timer"] = {"delay": {"amount": timer.amount, "unit": timer.unit}}
    return data


def flow(
    tracks: list[dict[str, Any]],
    *,
    rules: list[dict[str, Any]] = (),  # type: ignore[assignment]
    triggers: list[dict[str, Any]] | None = None,
    points: list[dict[str, Any]] = (),  # type: ignore[assignment]
    forms: list[tuple[dict[str, Any], list[dict[str, Any]]]] = (),  # type: ignore[assignment]
    timings: dict[str, Delay] | None = None,
    key: str = "sim-flow",
) -> dict[str, Any]:
    """A care-flow document; without ``triggers`` the first track starts with the care flow."""
    all_points = list(points) + [p for _form, form_points in forms for p in form_points]
    return {
        "apiVersion": "syncer.careflow/v1",
        "kind": "CareFlow",
        "metadata": {
            "definition_id": "flow-1",
            "key": key,
            "title": "Simulated flow",
            "description": "",
        },
        "spec": {
            "stakeholders": [
                {"id": STAKEHOLDER, "label": {"en": "Patient"}, "clinical_app_role": "Patient"}
            ],
            "tracks": tracks,
            "rules": list(rules),
            "triggers": triggers
            if triggers is not None
            else [trigger("start-trigger", tracks[0]["id"])],
            "timings": [
                {"id": t, "delay": {"amount": d.amount, "unit": d.unit}}
                for t, d in (timings or {}).items()
            ],
            "data_point_definitions": all_points,
            "forms": [f for f, _points in forms],
        },
        "layout": {"tracks": {}, "steps": {}},
    }


def case(*activities: Activity, baseline: dict[str, Any] | None = None) -> Case:
    return Case("case", tuple(Answer(k, v) for k, v in (baseline or {}).items()), tuple(activities))


def answer_form(
    index: int, name: str, after: Delay | None = None, step: str | None = None, **answers: Any
) -> Activity:
    return Activity(
        index, "form", name, tuple(Answer(k, v) for k, v in answers.items()), after=after, step=step
    )


def tick(index: int, name: str, after: Delay | None = None) -> Activity:
    return Activity(index, "checklist", name, after=after)
