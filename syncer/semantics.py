"""Meaning checks of a care-flow document, beyond its JSON Schema (SPEC 3).

Ids are unique, every reference resolves, every placeholder names something that exists, every step can be
reached from its track's start. Each finding carries the path of the offending node, so that the caller can
name file, line and column, and a "Did you mean ...?" hint where a near id exists.

Everything here is written for documents that may be malformed: a field of the wrong type is skipped,
never a crash (the schema reports it). Dangling *dynamic variable* references are warnings, not errors:
Awell itself keeps them when a variable is deleted (the text then shows the fallback), and real exports
contain them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem
from .yamlio import Document, JsonPath

_CONSTANT = re.compile(r"\{\{\s*constants\.([^{}\s]*)\s*\}\}")
_DATA_POINT = re.compile(r"(?<!\{)\{\{\s*data_point:([^{}\s]*)\s*\}\}")
_DYNAMIC_VARIABLE = re.compile(r"\{\{\{\s*dynamic_variable:([^{}\s]*)\s*\}\}\}")

# Component lists: spec field -> the kind named in messages. All share one id namespace, except data point
# definitions (a form question and its data point carry the same id by design).
_TOP_LEVEL = {
    "stakeholders": "stakeholder",
    "labels": "label",
    "tracks": "track",
    "rules": "rule",
    "triggers": "trigger",
    "timings": "timing",
    "dynamic_variables": "dynamic variable",
    "forms": "form",
    "messages": "message",
    "clinical_notes": "clinical note",
    "extension_webhooks": "extension webhook",
}
_WHERE = {
    "stakeholder": "`spec.stakeholders`",
    "label": "`spec.labels`",
    "track": "`spec.tracks`",
    "step": "any track",
    "rule": "`spec.rules`",
    "timing": "`spec.timings`",
    "dynamic variable": "`spec.dynamic_variables`",
    "form": "`spec.forms`",
    "message": "`spec.messages`",
    "clinical note": "`spec.clinical_notes`",
    "extension webhook": "`spec.extension_webhooks`",
    "data point definition": "`spec.data_point_definitions`",
    "constant": "`spec.settings.constants`",
}


def _items(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """The mappings of a list, with their paths; anything else is skipped (the schema reports it)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield (*path, index), item


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _name(item: dict[str, Any]) -> str:
    for field_name in ("key", "title", "label", "qualified_key"):
        value = item.get(field_name)
        if isinstance(value, str) and value:
            return value
    return str(item.get("id", "?"))


def suggest(value: str, known: dict[str, str]) -> str | None:
    """A "Did you mean ...?" hint: ``known`` maps each id to a readable name (key, title, ...)."""
    for candidate, name in known.items():
        if value and value.lower() == candidate.lower():
            return f"Did you mean `{candidate}`?"
        if value and value.lower() == name.lower():
            return f"Did you mean `{candidate}` ({name})?"
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    if close:
        return f"Did you mean `{close[0]}`?"
    by_name = {name: candidate for candidate, name in known.items()}
    close = difflib.get_close_matches(value, list(by_name), n=1, cutoff=0.75)
    if close:
        return f"Did you mean `{by_name[close[0]]}` ({close[0]})?"
    return None


@dataclass
class _Index:
    """Every id of the flow, by kind, with a readable name for suggestions."""

    definition_id: str = ""
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    step_track: dict[str, str] = field(default_factory=dict)  # step id -> track id
    track_steps: dict[str, dict[str, str]] = field(default_factory=dict)
    constant_keys: dict[str, str] = field(default_factory=dict)  # constant key -> id

    def known(self, kind: str) -> dict[str, str]:
        return self.ids.setdefault(kind, {})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _build_index(data: dict[str, Any]) -> _Index:
    spec = _dict(data.get("spec"))
    index = _Index(definition_id=str(_dict(data.get("metadata")).get("definition_id", "")))
    for list_name, kind in _TOP_LEVEL.items():
        for _path, item in _items(spec.get(list_name), ()):
            index.known(kind)[str(item.get("id"))] = _name(item)
    for _path, item in _items(spec.get("data_point_definitions"), ()):
        index.known("data point definition")[str(item.get("id"))] = _name(item)
    for _path, track in _items(spec.get("tracks"), ()):
        steps = index.track_steps.setdefault(str(track.get("id")), {})
        for _step_path, step in _items(track.get("steps"), ()):
            steps[str(step.get("id"))] = _name(step)
            index.known("step")[str(step.get("id"))] = _name(step)
            index.step_track[str(step.get("id"))] = str(track.get("id"))
    for _path, constant in _items(_dict(spec.get("settings")).get("constants"), ()):
        index.known("constant")[str(constant.get("id"))] = str(constant.get("key", ""))
        if isinstance(constant.get("key"), str):
            index.constant_keys.setdefault(constant["key"], str(constant.get("id")))
    return index


class _Checker:
    """Collects errors and warnings for one document."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
        spec = self.data.get("spec")
        self.spec: dict[str, Any] = spec if isinstance(spec, dict) else {}
        self.index = _build_index(self.data)
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.errors.append(self.doc.problem(path, message, hint))

    def warn(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.warnings.append(self.doc.problem(path, message, hint))

    def reference(
        self, path: JsonPath, value: Any, kind: str, owner: str, warn: bool = False
    ) -> None:
        """Report ``value`` unless it is an id of ``kind``."""
        if not isinstance(value, str) or value in self.index.known(kind):
            return
        message = f"{owner} refers to {kind} `{value}`, which does not exist in {_WHERE[kind]}."
        hint = suggest(value, self.index.known(kind)) or f"Fix the id or add the {kind}."
        (self.warn if warn else self.error)(path, message, hint)


def check_meaning(doc: Document) -> tuple[list[Problem], list[Problem]]:
    """Return ``(errors, warnings)`` of the meaning checks of one care-flow document."""
    checker = _Checker(doc)
    _check_unique_ids(checker)
    _check_constants(checker)
    _check_tracks(checker)
    _check_actions(checker)
    _check_components(checker)
    _check_placeholders(checker, checker.spec, ("spec",))
    _check_layout(checker)
    return checker.errors, checker.warnings


# --- ids ------------------------------------------------------------------------------------------------


def _components(spec: dict[str, Any]) -> Iterator[tuple[JsonPath, str, dict[str, Any]]]:
    """Every component that shares the flow's id namespace, with its path and kind."""
    base: JsonPath = ("spec",)
    for list_name, kind in _TOP_LEVEL.items():
        for path, item in _items(spec.get(list_name), (*base, list_name)):
            yield path, kind, item
    for track_path, track in _items(spec.get("tracks"), (*base, "tracks")):
        for step_path, step in _items(track.get("steps"), (*track_path, "steps")):
            yield step_path, "step", step
            for path, action in _items(step.get("actions"), (*step_path, "actions")):
                yield path, "action", action
        for path, transition in _items(track.get("transitions"), (*track_path, "transitions")):
            yield path, "transition", transition
    for form_path, form in _items(spec.get("forms"), (*base, "forms")):
        for path, question in _items(form.get("questions"), (*form_path, "questions")):
            yield path, "question", question
    for note_path, note in _items(spec.get("clinical_notes"), (*base, "clinical_notes")):
        for path, narrative in _items(note.get("narratives"), (*note_path, "narratives")):
            yield path, "narrative", narrative
    settings = spec.get("settings")
    if isinstance(settings, dict):
        for path, constant in _items(settings.get("constants"), (*base, "settings", "constants")):
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


def _check_unique_ids(checker: _Checker) -> None:
    seen: dict[str, tuple[str, JsonPath]] = {}
    for path, kind, item in _components(checker.spec):
        _claim(checker, seen, path, kind, item)
    data_points: dict[str, tuple[str, JsonPath]] = {}
    dps = checker.spec.get("data_point_definitions")
    for path, item in _items(dps, ("spec", "data_point_definitions")):
        _claim(checker, data_points, path, "data point definition", item)
    # Sub-items: unique within their parent only.
    for rule_path, rule in _items(checker.spec.get("rules"), ("spec", "rules")):
        local: dict[str, tuple[str, JsonPath]] = {}
        for path, condition in _items(rule.get("conditions"), (*rule_path, "conditions")):
            _claim(checker, local, path, "condition", condition)
    for path, _kind, item in _components(checker.spec):
        for list_name, kind in (
            ("options", "option"),
            ("extension_data_point_mappings", "mapping"),
        ):
            local = {}
            for sub_path, sub in _items(item.get(list_name), (*path, list_name)):
                _claim(checker, local, sub_path, kind, sub)


def _claim(
    checker: _Checker,
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


def _check_constants(checker: _Checker) -> None:
    settings = checker.spec.get("settings")
    if not isinstance(settings, dict):
        return
    # Where a key was first seen, located only when a duplicate is reported: locating re-parses the
    # whole file with the pure-Python loader, far too slow to do for every constant of a valid flow.
    seen: dict[str, JsonPath] = {}
    for path, constant in _items(settings.get("constants"), ("spec", "settings", "constants")):
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


def _check_tracks(checker: _Checker) -> None:
    for track_path, track in _items(checker.spec.get("tracks"), ("spec", "tracks")):
        track_id = str(track.get("id"))
        label = _name(track) if isinstance(track.get("key"), str) else track_id
        for path, transition in _items(track.get("transitions"), (*track_path, "transitions")):
            _check_transition(checker, path, transition, track_id, label)
        _check_reachable(checker, track_path, track, label)
        for step_path, step in _items(track.get("steps"), (*track_path, "steps")):
            for index, label_id in enumerate(_strings(step.get("label_definition_ids"))):
                owner = f"step `{_name(step)}`"
                checker.reference(
                    (*step_path, "label_definition_ids", index), label_id, "label", owner
                )


def _check_transition(
    checker: _Checker, path: JsonPath, transition: dict[str, Any], track_id: str, label: str
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
    checker: _Checker, where: JsonPath, what: str, node_id: str, track_id: str, label: str
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


def _check_reachable(
    checker: _Checker, track_path: JsonPath, track: dict[str, Any], label: str
) -> None:
    edges: dict[str, set[str]] = {}
    for _path, transition in _items(track.get("transitions"), ()):
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
    for step_path, step in _items(track.get("steps"), (*track_path, "steps")):
        if str(step.get("id")) not in reached:
            checker.error(
                (*step_path, "id"),
                f"step `{_name(step)}` cannot be reached from the start of track `{label}`.",
                "Add a transition that leads to it, or remove the step.",
            )


# --- references ----------------------------------------------------------------------------------------

_ACTION_REFERENCES = (
    ("form_definition_id", "form"),
    ("message_definition_id", "message"),
    ("clinical_note_definition_id", "clinical note"),
)


def _check_actions(checker: _Checker) -> None:
    for track_path, track in _items(checker.spec.get("tracks"), ("spec", "tracks")):
        for step_path, step in _items(track.get("steps"), (*track_path, "steps")):
            for path, action in _items(step.get("actions"), (*step_path, "actions")):
                _check_action(checker, path, action)


def _check_action(checker: _Checker, path: JsonPath, action: dict[str, Any]) -> None:
    owner = f"action `{_name(action)}`"
    for index, stakeholder in enumerate(_strings(action.get("stakeholder_definition_ids"))):
        checker.reference(
            (*path, "stakeholder_definition_ids", index), stakeholder, "stakeholder", owner
        )
    for field_name, kind in _ACTION_REFERENCES:
        checker.reference((*path, field_name), action.get(field_name), kind, owner)
    dp = "data point definition"
    for sub_path, item in _items(action.get("calculation_inputs"), (*path, "calculation_inputs")):
        checker.reference(
            (*sub_path, "data_point_definition_id"), item.get("data_point_definition_id"), dp, owner
        )
    api_call = action.get("api_call")
    if isinstance(api_call, dict):
        for sub_path, item in _items(api_call.get("mappings"), (*path, "api_call", "mappings")):
            checker.reference(
                (*sub_path, "data_point_definition_id"),
                item.get("data_point_definition_id"),
                dp,
                owner,
            )
    for sub_path, item in _items(action.get("plugin_fields"), (*path, "plugin_fields")):
        options = item.get("options")
        ids = (
            _strings(options.get("data_point_definition_ids")) if isinstance(options, dict) else []
        )
        for index, value in enumerate(ids):
            checker.reference(
                (*sub_path, "options", "data_point_definition_ids", index), value, dp, owner
            )
    _check_extension_mappings(checker, path, action, owner)


def _check_extension_mappings(
    checker: _Checker, path: JsonPath, action: dict[str, Any], owner: str
) -> None:
    keys = {
        str(item.get("key")): str(item.get("key"))
        for _p, item in _items(action.get("extension_data_points"), ())
    }
    mappings = action.get("extension_data_point_mappings")
    for sub_path, item in _items(mappings, (*path, "extension_data_point_mappings")):
        checker.reference(
            (*sub_path, "data_point_definition_id"),
            item.get("data_point_definition_id"),
            "data point definition",
            owner,
        )
        key = item.get("extension_data_point_key")
        if isinstance(key, str) and key not in keys:
            checker.error(
                (*sub_path, "extension_data_point_key"),
                f"{owner} maps extension data point `{key}`, which is not in its `extension_data_points`.",
                suggest(key, keys) or "Use one of the action's extension data point keys.",
            )


def _check_components(checker: _Checker) -> None:
    spec, dp = checker.spec, "data point definition"
    for path, rule in _items(spec.get("rules"), ("spec", "rules")):
        for sub_path, condition in _items(rule.get("conditions"), (*path, "conditions")):
            owner = f"condition `{condition.get('id')}` of rule `{rule.get('id')}`"
            checker.reference((*sub_path, "reference"), condition.get("reference"), dp, owner)
            operand = condition.get("operand")
            if isinstance(operand, dict) and operand.get("type") == "data_point":
                checker.reference((*sub_path, "operand", "value"), operand.get("value"), dp, owner)
    for path, trigger in _items(spec.get("triggers"), ("spec", "triggers")):
        _check_trigger(checker, path, trigger)
    for path, variable in _items(spec.get("dynamic_variables"), ("spec", "dynamic_variables")):
        owner = f"dynamic variable `{_name(variable)}`"
        checker.reference(
            (*path, "data_point_definition_id"), variable.get("data_point_definition_id"), dp, owner
        )
    for form_path, form in _items(spec.get("forms"), ("spec", "forms")):
        for path, question in _items(form.get("questions"), (*form_path, "questions")):
            owner = f"question `{_name(question)}`"
            checker.reference(
                (*path, "rule_definition_id"), question.get("rule_definition_id"), "rule", owner
            )
    for path, message in _items(spec.get("messages"), ("spec", "messages")):
        _check_text_references(checker, path, message, f"message `{message.get('id')}`")
    for note_path, note in _items(spec.get("clinical_notes"), ("spec", "clinical_notes")):
        for path, narrative in _items(note.get("narratives"), (*note_path, "narratives")):
            _check_text_references(checker, path, narrative, f"narrative `{_name(narrative)}`")


_TRIGGER_REFERENCES = (
    ("rule_id", "rule"),
    ("data_point_definition_id", "data point definition"),
    ("step_id", "step"),
    ("track_id", "track"),
    ("extension_webhook_id", "extension webhook"),
)


def _check_trigger(checker: _Checker, path: JsonPath, trigger: dict[str, Any]) -> None:
    owner = f"trigger `{trigger.get('id')}`"
    target = trigger.get("target")
    if isinstance(target, dict):
        if target.get("type") == "track":
            checker.reference((*path, "target", "id"), target.get("id"), "track", owner)
        elif target.get("type") == "pathway" and target.get("id") != checker.index.definition_id:
            checker.error(
                (*path, "target", "id"),
                f"{owner} targets care flow `{target.get('id')}`, but this flow is `{checker.index.definition_id}`.",
                "A `pathway` target names the flow's own metadata.definition_id.",
            )
    settings = trigger.get("settings")
    if isinstance(settings, dict):
        for field_name, kind in _TRIGGER_REFERENCES:
            checker.reference(
                (*path, "settings", field_name), settings.get(field_name), kind, owner
            )


def _check_text_references(
    checker: _Checker, path: JsonPath, item: dict[str, Any], owner: str
) -> None:
    for field_name, kind in (
        ("constant_ids", "constant"),
        ("stakeholder_ids", "stakeholder"),
        ("dynamic_variable_definition_ids", "dynamic variable"),
        ("dynamic_variable_ids", "dynamic variable"),
    ):
        for index, value in enumerate(_strings(item.get(field_name))):
            warn = kind == "dynamic variable"
            checker.reference((*path, field_name, index), value, kind, owner, warn=warn)


# --- placeholders and layout ---------------------------------------------------------------------------


def _walk_strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_strings(item, (*path, index))


def _check_placeholders(checker: _Checker, value: Any, base: JsonPath) -> None:
    keys = {key: key for key in checker.index.constant_keys}
    for path, text in _walk_strings(value, base):
        if "{{" not in text:
            continue
        for key in _CONSTANT.findall(text):
            if key not in keys:
                checker.error(
                    path,
                    f"placeholder `{{{{constants.{key}}}}}` names no constant of this flow.",
                    suggest(key, keys)
                    or "Add the constant to spec.settings.constants or fix the key.",
                )
        for data_point in _DATA_POINT.findall(text):
            what = f"placeholder `{{{{data_point:{data_point}}}}}`"
            checker.reference(path, data_point, "data point definition", what)
        for variable in _DYNAMIC_VARIABLE.findall(text):
            what = f"placeholder `{{{{{{dynamic_variable:{variable}}}}}}}`"
            checker.reference(path, variable, "dynamic variable", what, warn=True)


def _check_layout(checker: _Checker) -> None:
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
