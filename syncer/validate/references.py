"""Meaning checks of a care flow's references and placeholders: every id an action, rule, trigger,
variable, question, message or narrative names exists, and so does every ``{{constants.KEY}}``,
``{{data_point:ID}}`` and ``{{{dynamic_variable:ID}}}`` in its texts.

Dangling *dynamic variable* references are warnings, not errors: Awell itself keeps them when a variable
is deleted (the text then shows the fallback), and real exports contain them. So is every reference in a
plugin field's rich-text options and every placeholder in what is carried verbatim (``vendor_fields``):
that is Studio's editor bookkeeping, or data syncer does not model, never a reason to refuse a flow.
"""

from __future__ import annotations

import re
from typing import Any

from ..yamlio import JsonPath
from .checker import Checker, display_name, items_of, strings_of, suggest
from .drafts import carried

_CONSTANT = re.compile(r"\{\{\s*constants\.([^{}\s]*)\s*\}\}")
_DATA_POINT = re.compile(r"(?<!\{)\{\{\s*data_point:([^{}\s]*)\s*\}\}")
_DYNAMIC_VARIABLE = re.compile(r"\{\{\{\s*dynamic_variable:([^{}\s]*)\s*\}\}\}")


_ACTION_REFERENCES = (
    ("form_definition_id", "form"),
    ("message_definition_id", "message"),
    ("clinical_note_definition_id", "clinical note"),
)


def check_actions(checker: Checker) -> None:
    """Every id an action names: stakeholders, forms, messages, notes, data points, mappings."""
    for track_path, track in items_of(checker.spec.get("tracks"), ("spec", "tracks")):
        for step_path, step in items_of(track.get("steps"), (*track_path, "steps")):
            for path, action in items_of(step.get("actions"), (*step_path, "actions")):
                _check_action(checker, path, action)


def _check_action(checker: Checker, path: JsonPath, action: dict[str, Any]) -> None:
    owner = f"action `{display_name(action)}`"
    for index, stakeholder in enumerate(strings_of(action.get("stakeholder_definition_ids"))):
        checker.reference(
            (*path, "stakeholder_definition_ids", index), stakeholder, "stakeholder", owner
        )
    for field_name, kind in _ACTION_REFERENCES:
        checker.reference((*path, field_name), action.get(field_name), kind, owner)
    dp = "data point definition"
    for sub_path, item in items_of(action.get("calculation_inputs"), (*path, "calculation_inputs")):
        checker.reference(
            (*sub_path, "data_point_definition_id"), item.get("data_point_definition_id"), dp, owner
        )
    api_call = action.get("api_call")
    if isinstance(api_call, dict):
        for sub_path, item in items_of(api_call.get("mappings"), (*path, "api_call", "mappings")):
            checker.reference(
                (*sub_path, "data_point_definition_id"),
                item.get("data_point_definition_id"),
                dp,
                owner,
            )
    for sub_path, item in items_of(action.get("plugin_fields"), (*path, "plugin_fields")):
        options = item.get("options")
        if isinstance(options, dict):
            _check_plugin_options(checker, (*sub_path, "options"), options, owner)
    _check_extension_mappings(checker, path, action, owner)


_OPTION_REFERENCES = (
    ("stakeholder_ids", "stakeholder"),
    ("dynamic_variable_ids", "dynamic variable"),
    ("constant_ids", "constant"),
)


def _check_plugin_options(
    checker: Checker, path: JsonPath, options: dict[str, Any], owner: str
) -> None:
    for index, value in enumerate(strings_of(options.get("data_point_definition_ids"))):
        checker.reference(
            (*path, "data_point_definition_ids", index), value, "data point definition", owner
        )
    for field_name, kind in _OPTION_REFERENCES:  # the rich-text editor's bookkeeping: warnings
        for index, value in enumerate(strings_of(options.get(field_name))):
            checker.reference((*path, field_name, index), value, kind, owner, warn=True)


def _check_extension_mappings(
    checker: Checker, path: JsonPath, action: dict[str, Any], owner: str
) -> None:
    keys = {
        str(item.get("key")): str(item.get("key"))
        for _p, item in items_of(action.get("extension_data_points"), ())
    }
    mappings = action.get("extension_data_point_mappings")
    for sub_path, item in items_of(mappings, (*path, "extension_data_point_mappings")):
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


def check_components(checker: Checker) -> None:
    """The ids rules, triggers, dynamic variables, questions, messages and narratives name."""
    spec, dp = checker.spec, "data point definition"
    for path, rule in items_of(spec.get("rules"), ("spec", "rules")):
        for sub_path, condition in items_of(rule.get("conditions"), (*path, "conditions")):
            owner = f"condition `{condition.get('id')}` of rule `{rule.get('id')}`"
            checker.reference((*sub_path, "reference"), condition.get("reference"), dp, owner)
            operand = condition.get("operand")
            if isinstance(operand, dict) and operand.get("type") == "data_point":
                checker.reference((*sub_path, "operand", "value"), operand.get("value"), dp, owner)
    for path, trigger in items_of(spec.get("triggers"), ("spec", "triggers")):
        _check_trigger(checker, path, trigger)
    for path, variable in items_of(spec.get("dynamic_variables"), ("spec", "dynamic_variables")):
        owner = f"dynamic variable `{display_name(variable)}`"
        checker.reference(
            (*path, "data_point_definition_id"), variable.get("data_point_definition_id"), dp, owner
        )
    for form_path, form in items_of(spec.get("forms"), ("spec", "forms")):
        for path, question in items_of(form.get("questions"), (*form_path, "questions")):
            owner = f"question `{display_name(question)}`"
            checker.reference(
                (*path, "rule_definition_id"), question.get("rule_definition_id"), "rule", owner
            )
    for path, message in items_of(spec.get("messages"), ("spec", "messages")):
        _check_text_references(checker, path, message, f"message `{message.get('id')}`")
    for note_path, note in items_of(spec.get("clinical_notes"), ("spec", "clinical_notes")):
        for path, narrative in items_of(note.get("narratives"), (*note_path, "narratives")):
            _check_text_references(
                checker, path, narrative, f"narrative `{display_name(narrative)}`"
            )


_TRIGGER_REFERENCES = (
    ("rule_id", "rule"),
    ("data_point_definition_id", "data point definition"),
    ("step_id", "step"),
    ("track_id", "track"),
    ("extension_webhook_id", "extension webhook"),
)


def _check_trigger(checker: Checker, path: JsonPath, trigger: dict[str, Any]) -> None:
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
    checker: Checker, path: JsonPath, item: dict[str, Any], owner: str
) -> None:
    for field_name, kind in (
        ("constant_ids", "constant"),
        ("stakeholder_ids", "stakeholder"),
        ("dynamic_variable_definition_ids", "dynamic variable"),
        ("dynamic_variable_ids", "dynamic variable"),
    ):
        for index, value in enumerate(strings_of(item.get(field_name))):
            warn = kind == "dynamic variable"
            checker.reference((*path, field_name, index), value, kind, owner, warn=warn)


def _placeholder_strings(value: Any, path: JsonPath, found: list[tuple[JsonPath, str]]) -> None:
    """Append ``(path, text)`` of every string under ``value`` that holds ``{{``, in document order
    (paths are built for containers and such strings only: a big flow has a million strings)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        if isinstance(value, str) and "{{" in value:
            found.append((path, value))
        return
    for key, item in items:
        if isinstance(item, str):
            if "{{" in item:
                found.append(((*path, key), item))
        elif isinstance(item, dict | list):
            _placeholder_strings(item, (*path, key), found)


def check_placeholders(checker: Checker, value: Any, base: JsonPath) -> None:
    """Every placeholder in the strings under ``value`` names a constant, data point or variable."""
    keys = {key: key for key in checker.index.constant_keys}
    found: list[tuple[JsonPath, str]] = []
    _placeholder_strings(value, base, found)
    for path, text in found:
        warn = carried(path)  # data syncer does not model: said, never refused
        for key in _CONSTANT.findall(text):
            if key not in keys:
                (checker.warn if warn else checker.error)(
                    path,
                    f"placeholder `{{{{constants.{key}}}}}` names no constant of this flow.",
                    suggest(key, keys)
                    or "Add the constant to spec.settings.constants or fix the key.",
                )
        for data_point in _DATA_POINT.findall(text):
            what = f"placeholder `{{{{data_point:{data_point}}}}}`"
            checker.reference(path, data_point, "data point definition", what, warn=warn)
        for variable in _DYNAMIC_VARIABLE.findall(text):
            what = f"placeholder `{{{{{{dynamic_variable:{variable}}}}}}}`"
            checker.reference(path, variable, "dynamic variable", what, warn=True)
