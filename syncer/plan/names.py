"""How care-flow components are named for a reader. Pure: data in, words out.

A rule reads as its conditions ("PHQ-9 score ≥ 10 and Referral wanted is yes"), a data point as its
title and key, a delay as "after 4 weeks", a trigger as what starts it ("when data point *Systolic*
is collected, after 2 days"). The semantic diff titles rules, triggers and timings with these words,
the Mermaid diagrams label transitions with them and the reports describe changed fields with them.

Every function takes a ``name`` hook that renders a ``DataPointName`` (plain text by default), so a
Markdown report can write the title in italics and the key as code while a diagram keeps it short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS: dict[str, str] = {
    "is_equal_to": "=",
    "is_not_equal_to": "≠",
    "is_greater_than": ">",
    "is_greater_than_or_equal_to": "≥",
    "is_less_than": "<",
    "is_less_than_or_equal_to": "≤",
    "is_true": "is yes",
    "is_not_true": "is not yes",
    "is_false": "is no",
    "is_empty": "is empty",
    "is_not_empty": "is filled",
    "contains": "contains",
    "does_not_contain": "does not contain",
    "is_any_of": "is any of",
    "is_none_of": "is none of",
    "is_in_range": "is in range",
    "is_today": "is today",
    "has_file_uploaded": "has a file",
    "has_not_file_uploaded": "has no file",
}
# Operators whose operand is never shown: the operator says it all.
_UNARY = {"is_true", "is_not_true", "is_false", "is_empty", "is_not_empty", "is_today"}


@dataclass(frozen=True)
class DataPointName:
    """A data point as a reader knows it: its key (or qualified key) and, when it has one, the title
    of the question that collects it."""

    key: str
    title: str = ""

    def plain(self) -> str:
        if self.title and self.key and self.title != self.key:
            return f"{self.title} ({self.key})"
        return self.title or self.key


NameHook = Callable[[DataPointName], str]


def _plain(point: DataPointName) -> str:
    return point.plain()


def short(point: DataPointName) -> str:
    """The key alone (the title when there is no key): for a diagram's narrow labels."""
    return point.key or point.title


def _items(value: Any) -> Iterable[dict[str, Any]]:
    return (
        (item for item in value or [] if isinstance(item, dict)) if isinstance(value, list) else ()
    )


def data_point_names(*documents: Mapping[str, Any] | None) -> dict[str, DataPointName]:
    """Every data point of the documents by id and by qualified key; later documents win.

    A form question's data point has the question's id (Awell's convention), so the question's
    title is the data point's title.
    """
    names: dict[str, DataPointName] = {}
    for document in documents:
        spec = (document or {}).get("spec") or {}
        titles = {
            str(q.get("id")): str(q.get("title") or "")
            for form in _items(spec.get("forms"))
            for q in _items(form.get("questions"))
        }
        for point in _items(spec.get("data_point_definitions")):
            ident = str(point.get("id", ""))
            key = str(point.get("key") or point.get("qualified_key") or ident)
            name = DataPointName(key, titles.get(ident, ""))
            names[ident] = name
            if point.get("qualified_key"):
                names[str(point["qualified_key"])] = name
    return names


def from_definitions(points: Mapping[str, Mapping[str, Any]]) -> dict[str, DataPointName]:
    """``data_point_names`` for a bare ``{id: data point definition}`` mapping (no titles)."""
    return data_point_names({"spec": {"data_point_definitions": list(points.values())}})


def condition_words(
    condition: Mapping[str, Any], names: Mapping[str, DataPointName], name: NameHook = _plain
) -> str:
    """One condition: ``PHQ-9 score ≥ 10``."""
    reference = str(condition.get("reference") or "")
    point = names.get(reference) or DataPointName(reference or "?")
    operator = str(condition.get("operator") or "")
    words = OPERATORS.get(operator, operator.replace("_", " "))
    operand = condition.get("operand")
    value = operand.get("value") if isinstance(operand, dict) else operand
    if isinstance(operand, dict) and operand.get("type") == "data_point" and value in names:
        value = name(names[str(value)])
    if value is None or value == "" or operator in _UNARY:
        return f"{name(point)} {words}"
    return f"{name(point)} {words} {value}"


def rule_words(
    rule: Mapping[str, Any] | None,
    names: Mapping[str, DataPointName],
    name: NameHook = _plain,
    limit: int | None = None,
) -> str:
    """A rule in words (at most ``limit`` conditions, then "N more"); "" for no rule."""
    if not rule:
        return ""
    joiner = " or " if str(rule.get("boolean_operator", "and")).lower() == "or" else " and "
    conditions = [c for c in rule.get("conditions") or [] if isinstance(c, dict)]
    shown = conditions if limit is None else conditions[:limit]
    words = [condition_words(c, names, name) for c in shown]
    if len(conditions) > len(shown):
        words.append(f"{len(conditions) - len(shown)} more")
    return joiner.join(words) or "always (no conditions)"


def delay_words(delay: Any) -> str:
    """``after 4 weeks``, ``after 1 day``; ``immediately`` for no delay or zero."""
    if not isinstance(delay, Mapping) or delay.get("amount") in (None, ""):
        return "immediately"
    amount, unit = delay.get("amount"), str(delay.get("unit") or "").strip()
    try:
        number = float(amount)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"after {amount} {unit}".rstrip()
    if number == 0:
        return "immediately"
    shown = int(number) if number.is_integer() else number
    plural = unit if (number == 1 or not unit or unit.endswith("s")) else f"{unit}s"
    return f"after {shown} {plural}".rstrip()


def reminder_words(reminders: Any) -> str:
    """A flow's reminder settings: ``2 reminders, 1 day apart``."""
    if not isinstance(reminders, Mapping):
        return "none" if reminders in (None, {}) else str(reminders)
    count = reminders.get("amount")
    apart = delay_words(reminders.get("delay")).replace("after ", "", 1)
    if count in (None, 0, "0"):
        return "no reminders"
    noun = "reminder" if str(count) == "1" else "reminders"
    return f"{count} {noun}, {apart} apart"


_TRIGGERS = {
    "pathway_started": "when the care flow starts",
    "data_point_collected": "when data point {point} is collected",
    "data_point_not_collected": "when data point {point} is not collected",
    "step_completed": "when step {step} completes",
    "track_completed": "when track {track} completes",
    "extension_webhook": "when extension webhook {webhook} is called",
    "ad_hoc": "when started by hand (ad hoc)",
}


def trigger_words(
    settings: Any,
    names: Mapping[str, DataPointName],
    titles: Mapping[str, str],
    name: NameHook = _plain,
) -> str:
    """What starts a trigger: ``when data point Systolic (SYS) is collected``. ``titles`` names steps,
    tracks and extension webhooks by id."""
    if not isinstance(settings, Mapping):
        return "no settings"
    kind = str(settings.get("type") or "")
    point_id = str(settings.get("data_point_definition_id") or "")
    point = names.get(point_id) or DataPointName(point_id or "?")
    template = _TRIGGERS.get(kind, f"on {kind.replace('_', ' ') or 'an unknown event'}")
    return template.format(
        point=name(point),
        step=titles.get(str(settings.get("step_id")), str(settings.get("step_id"))),
        track=titles.get(str(settings.get("track_id")), str(settings.get("track_id"))),
        webhook=titles.get(
            str(settings.get("extension_webhook_id")), str(settings.get("extension_webhook_id"))
        ),
    )


def trigger_title(
    trigger: Mapping[str, Any],
    names: Mapping[str, DataPointName],
    titles: Mapping[str, str],
    rules: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """A trigger as one phrase: what starts it, its rule and its timer."""
    settings = trigger.get("settings")
    words = trigger_words(settings, names, titles, short)
    rule_id = settings.get("rule_id") if isinstance(settings, Mapping) else None
    if rule_id and rules and rule_id in rules:
        words += f" and {rule_words(rules[str(rule_id)], names, short, limit=2)}"
    timer = trigger.get("timer")
    if isinstance(timer, Mapping) and timer.get("delay"):
        words += f", {delay_words(timer.get('delay'))}"
    return words


def component_titles(*documents: Mapping[str, Any] | None) -> dict[str, str]:
    """Titles of tracks, steps, forms and extension webhooks by id (later documents win)."""
    titles: dict[str, str] = {}
    for document in documents:
        spec = (document or {}).get("spec") or {}
        for track in _items(spec.get("tracks")):
            titles[str(track.get("id"))] = str(track.get("title") or track.get("key") or "")
            for step in _items(track.get("steps")):
                titles[str(step.get("id"))] = str(step.get("title") or step.get("key") or "")
        for form in _items(spec.get("forms")):
            titles[str(form.get("id"))] = str(form.get("title") or form.get("key") or "")
        for hook in _items(spec.get("extension_webhooks")):
            titles[str(hook.get("id"))] = str(hook.get("webhook_key") or hook.get("id") or "")
    return titles


def by_id(items: Any) -> dict[str, dict[str, Any]]:
    """A list of components as ``{id: component}``."""
    return {str(i["id"]): i for i in _items(items) if "id" in i}
