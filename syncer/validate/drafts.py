"""What a working version may leave unfinished: warnings with their location, never errors (SPEC 3).

A working version is what an author saved in Studio, and Studio lets an author save a draft: a step that
no transition reaches yet, a track without steps, a data point defined for later. Awell publishes such
versions too. Each is a warning here — ``validate`` exits 0 and names it, ``export``, ``plan`` and
``apply`` go on and say it, ``preflight`` lists it before go-live — never a blocker. So is a type syncer
does not model (a newer Studio's action, trigger or value type): its fields are carried verbatim.

This module is the one place that decides what is a draft; everything else that is wrong is an error of
``semantics`` or ``references``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import VALUE_TYPES, VERBATIM_KEYS
from ..yamlio import JsonPath
from .checker import Checker, display_name, items_of

MODELLED_ACTIONS = frozenset(
    {
        "form",
        "message",
        "checklist",
        "calculation",
        "api_call",
        "api_call_graphql",
        "clinical_note",
        "push_to_emr",
        "plugin",
    }
)
MODELLED_TRIGGERS = frozenset(
    {
        "pathway_started",
        "data_point_collected",
        "data_point_not_collected",
        "step_completed",
        "track_completed",
        "extension_webhook",
        "ad_hoc",
    }
)
# Data points Awell makes by itself (a form's questions, every step's and track's dates, the patient
# profile...) are in every export whether used or not; only one an author defined can be "unused".
_AUTHORED_CATEGORY = "pathway"
_LATER = "It does not block export, plan or apply; finish it before go-live (`syncer preflight` lists it)."


def check_drafts(checker: Checker) -> None:
    """Warn about every unfinished part of the flow."""
    for track_path, track in items_of(checker.spec.get("tracks"), ("spec", "tracks")):
        _check_track(checker, track_path, track)
    _check_unused_data_points(checker)
    _check_unmodelled_types(checker)


def _check_track(checker: Checker, track_path: JsonPath, track: dict[str, Any]) -> None:
    label = display_name(track) if isinstance(track.get("key"), str) else str(track.get("id"))
    steps = list(items_of(track.get("steps"), (*track_path, "steps")))
    if not steps:
        checker.warn(
            (*track_path, "steps"), f"track `{label}` has no steps yet.", f"Add its steps. {_LATER}"
        )
        return
    reached = _reachable(track)
    for step_path, step in steps:
        if str(step.get("id")) not in reached:
            checker.warn(
                (*step_path, "id"),
                f"step `{display_name(step)}` cannot be reached from the start of track `{label}` yet.",
                f"Add a transition that leads to it, or remove the step. {_LATER}",
            )


def _reachable(track: dict[str, Any]) -> set[str]:
    """The steps a patient can reach from the track's start, through the track's transitions."""
    edges: dict[str, set[str]] = {}
    for _path, transition in items_of(track.get("transitions"), ()):
        origin, destination = transition.get("origin"), transition.get("destination")
        if (
            isinstance(origin, dict)
            and isinstance(destination, dict)
            and destination.get("type") == "step"
        ):
            source = (
                "<start>" if origin.get("type") == "track_start" else str(origin.get("node_id"))
            )
            edges.setdefault(source, set()).add(str(destination.get("node_id")))
    reached: set[str] = set()
    frontier = ["<start>"]
    while frontier:
        for target in edges.get(frontier.pop(), set()) - reached:
            reached.add(target)
            frontier.append(target)
    return reached


def _check_unused_data_points(checker: Checker) -> None:
    authored = [
        (path, point)
        for path, point in items_of(
            checker.spec.get("data_point_definitions"), ("spec", "data_point_definitions")
        )
        if point.get("category") == _AUTHORED_CATEGORY and isinstance(point.get("id"), str)
    ]
    if not authored:
        return
    mentioned = _mentions({k: v for k, v in checker.spec.items() if k != "data_point_definitions"})
    for path, point in authored:
        if point["id"] not in mentioned:
            checker.warn(
                (*path, "id"),
                f"data point `{display_name(point)}` is defined but nothing uses it yet.",
                f"Use it in a rule, a trigger, a text or an action, or remove it. {_LATER}",
            )


def _mentions(value: Any) -> set[str]:
    """Every string that mentions an id: whole strings, and the ids inside ``{{data_point:ID}}``."""
    found: set[str] = set()
    for text in _strings(value):
        found.add(text)
        if "data_point:" in text:
            for part in text.split("data_point:")[1:]:
                found.add(part.split("}", 1)[0].strip())
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_unmodelled_types(checker: Checker) -> None:
    """A type syncer does not model is carried, not refused; the author should know syncer cannot
    check its meaning."""
    carried = "syncer keeps its fields under `vendor_fields` as they are but cannot check them."
    for path, action, _step in _actions(checker):
        kind = action.get("type")
        if isinstance(kind, str) and kind not in MODELLED_ACTIONS:
            checker.warn(
                (*path, "type"), f"action type `{kind}` is not one syncer models.", carried
            )
    for path, trigger in items_of(checker.spec.get("triggers"), ("spec", "triggers")):
        settings = trigger.get("settings")
        kind = settings.get("type") if isinstance(settings, dict) else None
        if isinstance(kind, str) and kind not in MODELLED_TRIGGERS:
            checker.warn(
                (*path, "settings", "type"),
                f"trigger type `{kind}` is not one syncer models.",
                carried,
            )
    for path, point in items_of(
        checker.spec.get("data_point_definitions"), ("spec", "data_point_definitions")
    ):
        kind = point.get("value_type")
        if isinstance(kind, str) and kind not in VALUE_TYPES:
            checker.warn(
                (*path, "value_type"),
                f"value type `{kind}` is not one syncer knows.",
                "syncer keeps it as it is; test cases and rules cannot judge its values.",
            )


def _actions(checker: Checker) -> Iterator[tuple[JsonPath, dict[str, Any], dict[str, Any]]]:
    for track_path, track in items_of(checker.spec.get("tracks"), ("spec", "tracks")):
        for step_path, step in items_of(track.get("steps"), (*track_path, "steps")):
            for path, action in items_of(step.get("actions"), (*step_path, "actions")):
                yield path, action, step


def carried(path: JsonPath) -> bool:
    """Whether ``path`` lies inside what is carried verbatim (``vendor_fields`` and the like)."""
    return any(element in VERBATIM_KEYS for element in path)
