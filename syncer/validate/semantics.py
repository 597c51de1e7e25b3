"""Meaning checks of a care-flow document, beyond its JSON Schema (SPEC 3).

Ids are unique, every reference resolves, every placeholder names something that exists. Each finding
carries the path of the offending node, so that the caller can name file, line and column, and a "Did you
mean ...?" hint where a near id exists. What a draft may leave unfinished (an unreachable step, an empty
track, an unused data point) is decided in ``drafts`` and is a warning, never an error.

Everything here is written for documents that may be malformed: a field of the wrong type is skipped,
never a crash (the schema reports it). Dangling *dynamic variable* references are warnings, not errors:
Awell itself keeps them when a variable is deleted (the text then shows the fallback), and real exports
contain them.

This module checks ids, tracks (transitions) and layout; references and placeholders are checked in
``references``, with the index and ``Checker`` of ``checker``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import Problem
from ..yamlio import Document, JsonPath
from .checker import TOP_LEVEL_KINDS, Checker, display_name, items_of, strings_of, suggest
from .drafts import check_drafts
from .references import check_actions, check_components, check_placeholders


def check_meaning(doc: Document) -> tuple[list[Problem], list[Problem]]:
    """Return ``(errors, warnings)`` of the meaning checks of one care-flow document."""
    checker = Checker(doc)
    _check_unique_ids(checker)
    _check_constants(checker)
    _check_tracks(checker)
    check_actions(checker)
    check_components(checker)
    check_placeholders(checker, checker.doc.data.get("metadata") or {}, ("metadata",))
    check_placeholders(checker, checker.spec, ("spec",))
    _check_layout(checker)
    check_drafts(checker)
    return checker.errors, checker.warnings


# --- ids ------------------------------------------------------------------------------------------------


def _components(spec: dict[str, Any]) -> Iterator[tuple[JsonPath, str, dict[str, Any]]]:
    """Every component that shares the flow's id namespace, with its path and kind."""
    base: JsonPath = ("spec",)
    for list_name, kind in TOP_LEVEL_KINDS.items():
        for path, item in items_of(spec.get(list_name), (*base, list_name)):
            yield path, kind, item
    for track_path, track in items_of(spec.get("tracks"), (*base, "tracks")):
        for step_path, step in items_of(track.get("steps"), (*track_path, "steps")):
            yield step_path, "step", step
            for path, action in items_of(step.get("actions"), (*step_path, "actions")):
                yield path, "action", action
        for path, transition in items_of(track.get("transitions"), (*track_path, "transitions")):
            yield path, "transition", transition
    for form_path, form in items_of(spec.get("forms"), (*base, "forms")):
        for path, question in items_of(form.get("questions"), (*form_path, "questions")):
            yield path, "question", question
    for note_path, note in items_of(spec.get("clinical_notes"), (*base, "clinical_notes")):
        for path, narrative in items_of(note.get("narratives"), (*note_path, "narratives")):
            yield path, "narrative", narrative
    settings = spec.get("settings")
    if isinstance(settings, dict):
        for path, constant in items_of(settings.get("constants"), (*base, "settings", "constants")):
            yield path, "constant", constant
        yield from _extension_settings(settings.get("extensions"))


def _extension_settings(extensions: Any) -> Iterator[tuple[JsonPath, str, dict[str, Any]]]:
    if not isinstance(extensions, dict):
        return
    for name, settings in extensions.items():
        if isinstance(settings, dict):
            for setting, item in settings.items():
                if isinstance(item, dict):
                    yield (
                        ("spec", "settings", "extensions", name, setting),
                        "extension setting",
                        item,
                    )


def _check_unique_ids(checker: Checker) -> None:
    seen: dict[str, tuple[str, JsonPath]] = {}
    for path, kind, item in _components(checker.spec):
        _claim(checker, seen, path, kind, item)
    data_points: dict[str, tuple[str, JsonPath]] = {}
    dps = checker.spec.get("data_point_definitions")
    for path, item in items_of(dps, ("spec", "data_point_definitions")):
        _claim(checker, data_points, path, "data point definition", item)
    # Sub-items: unique within their parent only.
    for rule_path, rule in items_of(checker.spec.get("rules"), ("spec", "rules")):
        local: dict[str, tuple[str, JsonPath]] = {}
        for path, condition in items_of(rule.get("conditions"), (*rule_path, "conditions")):
            _claim(checker, local, path, "condition", condition)
    for path, _kind, item in _components(checker.spec):
        for list_name, kind in (
            ("options", "option"),
            ("extension_data_point_mappings", "mapping"),
        ):
            local = {}
            for sub_path, sub in items_of(item.get(list_name), (*path, list_name)):
                _claim(checker, local, sub_path, kind, sub)


def _claim(
    checker: Checker,
    seen: dict[str, tuple[str, JsonPath]],
    path: JsonPath,
    kind: str,
    item: dict[str, Any],
) -> None:
    item_id = item.get("id")
    if not isinstance(item_id, str):
        return
    if item_id in seen:
        other_kind, other_path = seen[item_id]
        line, _column = checker.doc.locate(other_path)
        checker.error(
            (*path, "id"),
            f"duplicate id `{item_id}`: the {other_kind} at line {line} already uses it.",
            f"Ids must be unique within the flow; give this {kind} a new id.",
        )
    else:
        seen[item_id] = (kind, path)


def _check_constants(checker: Checker) -> None:
    settings = checker.spec.get("settings")
    if not isinstance(settings, dict):
        return
    # Where a key was first seen, located only when a duplicate is reported: locating re-parses the
    # whole file with the pure-Python loader, far too slow to do for every constant of a valid flow.
    seen: dict[str, JsonPath] = {}
    for path, constant in items_of(settings.get("constants"), ("spec", "settings", "constants")):
        key = constant.get("key")
        if not isinstance(key, str):
            continue
        if key in seen:
            first = checker.doc.locate((*seen[key], "key"))[0]
            checker.error(
                (*path, "key"),
                f"constant key `{key}` is used twice (first at line {first}).",
                "Constant keys must be unique in the flow; `{{constants.KEY}}` and environments use them.",
            )
        else:
            seen[key] = path


# --- tracks, transitions, reachability -----------------------------------------------------------------


def _check_tracks(checker: Checker) -> None:
    for track_path, track in items_of(checker.spec.get("tracks"), ("spec", "tracks")):
        track_id = str(track.get("id"))
        label = display_name(track) if isinstance(track.get("key"), str) else track_id
        for path, transition in items_of(track.get("transitions"), (*track_path, "transitions")):
            _check_transition(checker, path, transition, track_id, label)
        for step_path, step in items_of(track.get("steps"), (*track_path, "steps")):
            for index, label_id in enumerate(strings_of(step.get("label_definition_ids"))):
                owner = f"step `{display_name(step)}`"
                checker.reference(
                    (*step_path, "label_definition_ids", index), label_id, "label", owner
                )


def _check_transition(
    checker: Checker, path: JsonPath, transition: dict[str, Any], track_id: str, label: str
) -> None:
    name = f"transition `{transition.get('id')}`"
    for end, verb in (("origin", "starts at"), ("destination", "goes to")):
        node = transition.get(end)
        if not isinstance(node, dict) or not isinstance(node.get("node_id"), str):
            continue
        node_id, node_type = node["node_id"], node.get("type")
        where = (*path, end, "node_id")
        if node_type in ("track_start", "track_end") and node_id != track_id:
            checker.error(
                where,
                f"{name} {verb} the {str(node_type).replace('_', ' ')} of `{node_id}`, but it belongs to track `{label}`.",
                f"A transition belongs to the track of its origin; use `{track_id}` here or move the transition.",
            )
        elif node_type == "step" and node_id not in checker.index.track_steps.get(track_id, {}):
            _report_foreign_step(
                checker, where, f"{name} {verb} step `{node_id}`", node_id, track_id, label
            )
    checker.reference(
        (*path, "rule_definition_id"), transition.get("rule_definition_id"), "rule", name
    )
    checker.reference(
        (*path, "timing_definition_id"), transition.get("timing_definition_id"), "timing", name
    )


def _report_foreign_step(
    checker: Checker, where: JsonPath, what: str, node_id: str, track_id: str, label: str
) -> None:
    other = checker.index.step_track.get(node_id)
    if other is not None:
        checker.error(
            where,
            f"{what}, which is in track `{other}`, not in track `{label}`.",
            "Transitions connect steps of one track; start the other track with a trigger instead.",
        )
        return
    hint = suggest(node_id, checker.index.track_steps.get(track_id, {}))
    checker.error(
        where, f"{what}, which does not exist in track `{label}`.", hint or "Fix the step id."
    )


# --- layout ---------------------------------------------------------------------------------------------


def _check_layout(checker: Checker) -> None:
    layout = checker.data.get("layout")
    if not isinstance(layout, dict):
        return
    for section, kind in (("tracks", "track"), ("steps", "step")):
        entries = layout.get(section)
        if not isinstance(entries, dict):
            continue
        for node_id in entries:
            if isinstance(node_id, str) and node_id not in checker.index.known(kind):
                checker.error(
                    ("layout", section, node_id),
                    f"layout names {kind} `{node_id}`, which is not in the flow.",
                    suggest(node_id, checker.index.known(kind)) or "Remove the entry.",
                )
