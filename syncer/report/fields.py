"""The changed fields that have a meaning of their own, in words. Pure.

An API call reads as its method, URL, headers (a credential-looking header, or one that uses a
concealed constant, has its literal text masked), body (a diff) and response mappings; a rule as its
conditions ("*PHQ-9 score* ≥ 10 and *Referral wanted* is yes", data points by title and key); a
transition by its rule, delay and ends; a trigger as what starts it and its timer ("after 4 weeks");
plugin fields by their labels; vendor fields (what the platform sends that the format does not model)
by their names. Any other structure is walked field by field (``details.structure``).

``explain`` returns the head of the line and the details to list under it, or None when the field is a
plain value (the caller then writes "before → after" itself).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..model import Change
from ..plan import names as naming
from .details import (
    Detail,
    Lookup,
    capped,
    carried_name,
    data_point,
    data_point_by_id,
    keyed,
    quote,
    structure,
    transition,
    words,
)
from .safe_text import Style

MASK = "•••"
# A header or query parameter whose name says it carries a credential has its literal text masked.
_SENSITIVE = re.compile(
    r"auth|token|secret|passw|api[-_]?key|apikey|cookie|session|signature|credential|private|sig$",
    re.I,
)
_PLACEHOLDER = re.compile(r"\{\{\{?[^{}]*\}?\}\}")
_SCHEMES = {"bearer", "basic", "token", "digest", "apikey", "bot"}

# -- the dispatcher ----------------------------------------------------------------------------------


Explained = tuple[str, list[Detail]]
_Handler = Callable[[Any, Any, Style, Lookup, bool], Explained]


def explain(change: Change, s: Style, lookup: Lookup, excerpts: bool = True) -> Explained | None:
    """The head and details of a change of a structured field, or None for a plain value."""
    kind = change.trail[-1].kind if change.trail else ""
    name = change.field
    before, after = change.before, change.after
    carried = carried_name(name, s)
    if carried is not None:  # a field syncer keeps verbatim: by its name, its value as it is
        return "", [transition(carried, before, after, s, excerpts, " changed")]
    if kind == "rule" and name in ("conditions", "boolean_operator"):
        return _rule_change(change, s, lookup)
    handler = _HANDLERS.get((kind, name)) or _HANDLERS.get(("", name))
    if handler is not None:
        return handler(before, after, s, lookup, excerpts)
    if isinstance(before, dict | list) or isinstance(after, dict | list):
        return f"{words(name)} changed", structure(before, after, s, excerpts, lookup=lookup)
    return None


# -- API calls -------------------------------------------------------------------------------------


def masked(text: str) -> str:
    """A credential-bearing value with its literal parts masked: placeholders and an auth scheme
    word (``Bearer``) stay, so a reviewer still sees which constant it uses."""

    def literal(match: re.Match[str]) -> str:
        return match.group() if match.group().lower() in _SCHEMES else MASK

    pieces = re.split(f"({_PLACEHOLDER.pattern})", text)
    return "".join(p if i % 2 else re.sub(r"\S+", literal, p) for i, p in enumerate(pieces))


def _conceals(value: Any, lookup: Lookup) -> bool:
    refs = re.findall(r"\{\{\s*constants\.([A-Za-z0-9_]+)\s*\}\}", str(value))
    return any(ref in lookup.concealed for ref in refs)


def masked_url(url: str) -> str:
    """A URL with a password and the values of credential-looking query parameters masked."""
    url = re.sub(r"(//[^/@:\s]+:)[^/@\s]+@", lambda m: f"{m.group(1)}{MASK}@", url)

    def parameter(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        return f"{name}={masked(value)}" if _SENSITIVE.search(name) else match.group(0)

    return re.sub(r"(?<=[?&])([^=&#]+)=([^&#]*)", parameter, url)


def _headers(value: Any) -> dict[str, Any]:
    items = value if isinstance(value, list) else []
    return {str(h.get("key")): h.get("value") for h in items if isinstance(h, dict)}


def _header_detail(
    key: str, before: Any, after: Any, s: Style, lookup: Lookup, excerpts: bool
) -> Detail:
    label = f"header {s.code(key)}"
    secret = _SENSITIVE.search(key) or _conceals(before, lookup) or _conceals(after, lookup)
    if not secret:
        return transition(label, before, after, s, excerpts)
    old, new = (masked(str(v)) if v is not None else None for v in (before, after))
    if old == new:
        return Detail(f"{label}: value changed (masked)")
    return Detail(f"{transition(label, old, new, s, excerpts).text} (masked)")


def _mappings(value: Any) -> dict[str, str]:
    items = value if isinstance(value, list) else []
    return {
        str(m.get("response_key")): str(m.get("data_point_definition_id"))
        for m in items
        if isinstance(m, dict)
    }


_API_PARTS = ("method", "endpoint", "headers", "body", "query", "variables", "mappings")
URL_LIMIT = 200  # a URL is shown whole up to here: a reviewer reads every part of it


def api_call(before: Any, after: Any, s: Style, lookup: Lookup, excerpts: bool) -> Explained:
    """Method, URL, headers, body (or GraphQL query and variables) and response mappings."""
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    details: list[Detail] = []
    if old.get("method") != new.get("method"):
        details.append(transition("method", old.get("method"), new.get("method"), s, verb=""))
    if old.get("endpoint") != new.get("endpoint"):
        was, now = (_url(old.get("endpoint")), _url(new.get("endpoint")))
        details.append(transition("URL", was, now, s, excerpts, " changed", URL_LIMIT))
    details += _header_details(old.get("headers"), new.get("headers"), s, lookup, excerpts)
    for part in ("body", "query", "variables"):
        if old.get(part) != new.get(part):
            details.append(transition(part, old.get(part), new.get(part), s, excerpts, " changed"))
    details += _mapping_details(old.get("mappings"), new.get("mappings"), s, lookup)
    for key in sorted((old.keys() | new.keys()) - set(_API_PARTS)):
        if old.get(key) != new.get(key):
            details += structure(old.get(key), new.get(key), s, excerpts, words(key), lookup)
    return "API call changed", capped(details)


def _url(value: Any) -> str | None:
    return masked_url(str(value)) if value is not None else None


def _header_details(
    before: Any, after: Any, s: Style, lookup: Lookup, excerpts: bool
) -> list[Detail]:
    old, new = _headers(before), _headers(after)
    return [
        _header_detail(key, old.get(key), new.get(key), s, lookup, excerpts)
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key) or (key in old) != (key in new)
    ]


def _mapping_details(before: Any, after: Any, s: Style, lookup: Lookup) -> list[Detail]:
    old, new = _mappings(before), _mappings(after)
    details = []
    for key in sorted(old.keys() | new.keys()):
        what = f"response {s.code(key)}"
        was, now = (data_point_by_id(m.get(key), s, lookup) for m in (old, new))
        if key not in old:
            details.append(Detail(f"{what} now stored in {now}"))
        elif key not in new:
            details.append(Detail(f"{what} no longer stored (was {was})"))
        elif was != now:
            details.append(Detail(f"{what}: stored in {was} → {now}"))
    return details


# -- rules, transitions, triggers, timings ---------------------------------------------------------


def _rule_text(rule: Any, s: Style, lookup: Lookup) -> str:
    if not isinstance(rule, Mapping):
        return "(none)"
    return naming.rule_words(rule, lookup.points, lambda p: data_point(p, s))


def _rule_change(change: Change, s: Style, lookup: Lookup) -> Explained:
    """A rule's conditions changed: the whole rule before and after, in words, each side joined by
    its own ``and``/``or`` (the version of the rule whose conditions these are)."""
    if change.field == "boolean_operator":
        return (
            f"conditions now joined by {quote(change.after, s)} instead of {quote(change.before, s)}",
            [],
        )
    ident = change.trail[-1].id if change.trail else ""
    sides = lookup.rule_sides.get(ident, [])

    def words(conditions: Any) -> str:
        same = [r for r in sides if r.get("conditions") == conditions] or sides or [{}]
        rule = {**same[0], "conditions": conditions if isinstance(conditions, list) else []}
        return _rule_text(rule, s, lookup)

    return f"conditions changed: “{words(change.before)}” → “{words(change.after)}”", []


def transition_rule(before: Any, after: Any, s: Style, lookup: Lookup, _x: bool) -> Explained:
    old, new = (
        _rule_text(lookup.rules.get(str(v)), s, lookup) if v else "always" for v in (before, after)
    )
    return f"rule changed: “{old}” → “{new}”", []


def transition_timing(before: Any, after: Any, s: Style, lookup: Lookup, _x: bool) -> Explained:
    old, new = (
        naming.delay_words((lookup.timings.get(str(v)) or {}).get("delay")) if v else "immediately"
        for v in (before, after)
    )
    return f"delay changed: {old} → {new}", []


def _node(value: Any, s: Style, lookup: Lookup) -> str:
    if not isinstance(value, Mapping):
        return "(none)"
    kind, ident = str(value.get("type") or ""), str(value.get("node_id") or "")
    if kind == "track_start":
        return "the start of the track"
    if kind == "track_end":
        return "the end of the track"
    return f"step {s.name(lookup.titles[ident]) if lookup.titles.get(ident) else s.code(ident)}"


def _end(name: str) -> _Handler:
    def changed(before: Any, after: Any, s: Style, lookup: Lookup, _x: bool) -> Explained:
        return f"{name} changed: {_node(before, s, lookup)} → {_node(after, s, lookup)}", []

    return changed


def trigger_settings(before: Any, after: Any, s: Style, lookup: Lookup, _x: bool) -> Explained:
    """What starts the trigger, and its rule, each said only when it changed."""
    old = before if isinstance(before, Mapping) else {}
    new = after if isinstance(after, Mapping) else {}

    def starts(value: Mapping[str, Any]) -> str:
        rest = {k: v for k, v in value.items() if k != "rule_id"}
        return naming.trigger_words(rest, lookup.points, lookup.titles, lambda p: data_point(p, s))

    parts = []
    if starts(old) != starts(new):
        parts.append(f"now starts {starts(new)} (was {starts(old)})")
    if old.get("rule_id") != new.get("rule_id"):
        was, now = (
            _rule_text(lookup.rules.get(str(v)), s, lookup) if v else "none"
            for v in (old.get("rule_id"), new.get("rule_id"))
        )
        parts.append(f"rule changed: “{was}” → “{now}”")
    return "; ".join(parts) or "settings changed", []


def timer(before: Any, after: Any, _s: Style, _lookup: Lookup, _x: bool) -> Explained:
    def words(value: Any) -> str:
        return (
            naming.delay_words(value.get("delay")) if isinstance(value, Mapping) else "immediately"
        )

    return f"timer changed: {words(before)} → {words(after)}", []


def delay(before: Any, after: Any, _s: Style, _lookup: Lookup, _x: bool) -> Explained:
    return f"delay changed: {naming.delay_words(before)} → {naming.delay_words(after)}", []


def target(before: Any, after: Any, s: Style, lookup: Lookup, _x: bool) -> Explained:
    def words(value: Any) -> str:
        if not isinstance(value, Mapping):
            return "(none)"
        ident = str(value.get("id"))
        name = s.name(lookup.titles[ident]) if lookup.titles.get(ident) else s.code(ident)
        return "the whole care flow" if value.get("type") == "pathway" else f"track {name}"

    return f"now starts {words(after)} (was {words(before)})", []


def reminders(before: Any, after: Any, _s: Style, _lookup: Lookup, _x: bool) -> Explained:
    return (
        f"reminders changed: {naming.reminder_words(before)} → {naming.reminder_words(after)}",
        [],
    )


# -- plugin fields and any other structure ---------------------------------------------------------


def plugin_fields(before: Any, after: Any, s: Style, lookup: Lookup, excerpts: bool) -> Explained:
    """Plugin fields by label: a value, or whether it is required, changed; a field added or removed."""
    old, new = keyed(before), keyed(after)
    details: list[Detail] = []
    for ident in list(dict.fromkeys([*new, *old])):
        item = new.get(ident) or old.get(ident) or {}
        label = f"plugin field {s.name(item.get('label')) if item.get('label') else s.code(ident)}"
        if ident not in old:
            details.append(Detail(f"{label} added{_value_of(item, s)}"))
        elif ident not in new:
            details.append(Detail(f"{label} removed"))
        else:
            details += structure(old[ident], new[ident], s, excerpts, label, lookup)
    return "plugin fields changed", capped(details)


def _value_of(item: Mapping[str, Any], s: Style) -> str:
    return f" with value {quote(item['value'], s)}" if item.get("value") not in (None, "") else ""


def _data_point_links(noun: str, ident: str) -> _Handler:
    """Lists that link something (a calculation input, an extension data point) to a data point."""

    def changed(before: Any, after: Any, s: Style, lookup: Lookup, _x: bool) -> Explained:
        old, new = keyed(before), keyed(after)
        details = []
        for key in list(dict.fromkeys([*new, *old])):
            item = new.get(key) or old[key]
            name = f"{noun} {s.code(str(item.get(ident) or key))}"
            was, now = (
                data_point_by_id((m.get(key) or {}).get("data_point_definition_id"), s, lookup)
                for m in (old, new)
            )
            if key not in old:
                details.append(Detail(f"{name} added, from {now}"))
            elif key not in new:
                details.append(Detail(f"{name} removed (was from {was})"))
            elif was != now:
                details.append(Detail(f"{name}: from {was} → from {now}"))
        return f"{noun}s changed", capped(details)

    return changed


_HANDLERS: dict[tuple[str, str], _Handler] = {
    ("", "api_call"): api_call,
    ("transition", "rule_definition_id"): transition_rule,
    ("transition", "timing_definition_id"): transition_timing,
    ("transition", "origin"): _end("origin"),
    ("transition", "destination"): _end("destination"),
    ("trigger", "settings"): trigger_settings,
    ("trigger", "timer"): timer,
    ("trigger", "target"): target,
    ("timing", "delay"): delay,
    ("settings", "reminders"): reminders,
    ("", "plugin_fields"): plugin_fields,
    ("", "calculation_inputs"): _data_point_links("calculation input", "calculation_input_id"),
    ("", "extension_data_point_mappings"): _data_point_links(
        "extension data point", "extension_data_point_key"
    ),
}
