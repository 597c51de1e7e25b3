"""What the reports list under a changed field: the ``Detail`` lines, the values quoted and
focused on their first difference, texts as diffs, and any structure walked field by field (mappings by
key, lists of components by id or key, lists of texts item by item), never a JSON excerpt cut in the
middle. ``Lookup`` holds what a flow's documents say about the ids a change names. Pure.

The fields with a meaning of their own (API calls, rules, triggers, timers, plugin fields, vendor
fields) are worded by ``report/fields.py`` on top of these.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import CONTROL
from ..model import FlowPlan
from ..plan import names as naming
from ..plan.names import DataPointName
from .safe_text import Style, flatten

EXCERPT_LIMIT = 80  # characters of a before/after value shown inline
DIFF_LINES = 12  # lines of a multi-line diff shown
DETAIL_CAP = 20  # details listed under one change
TITLE_IN_RULE = 48  # characters of a question title naming a data point
# Fields the platform sends that the format does not model (kept verbatim, SPEC 3), as a reader says.
CARRIED = (("vendor_fields.", "Awell field"), ("vendor_entry_fields.", "Awell entry field"))
# Lists of structures are matched by the first of these an item has.
_IDENTITY = ("id", "key", "response_key", "calculation_input_id", "label", "name")


@dataclass(frozen=True)
class Detail:
    """One line under a change, and the diff lines to show under it (a multi-line text)."""

    text: str
    diff: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lookup:
    """What a flow's documents say about the ids a change mentions."""

    points: dict[str, DataPointName] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, dict[str, Any]] = field(default_factory=dict)
    concealed: frozenset[str] = frozenset()
    rule_sides: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # both versions

    @classmethod
    def of(cls, flow: FlowPlan, concealed: set[str] | None = None) -> Lookup:
        documents = (flow.live, flow.desired)  # Git's side wins a name both sides have
        rules = [naming.by_id(((d or {}).get("spec") or {}).get("rules")) for d in documents]
        timings = [naming.by_id(((d or {}).get("spec") or {}).get("timings")) for d in documents]
        sides: dict[str, list[dict[str, Any]]] = {}
        for side in rules:
            for ident, rule in side.items():
                sides.setdefault(ident, []).append(rule)
        return cls(
            naming.data_point_names(*documents),
            naming.component_titles(*documents),
            {k: v for side in rules for k, v in side.items()},
            {k: v for side in timings for k, v in side.items()},
            frozenset(concealed or ()),
            sides,
        )


# -- values ----------------------------------------------------------------------------------------


def quote(value: Any, s: Style, limit: int = EXCERPT_LIMIT) -> str:
    """A value inline: ``“text”``, a number or yes/no as is, ``(none)`` for nothing."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return s.text(str(value), limit)
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return f"“{s.text(raw, limit)}”"


def focus(before: Any, after: Any, limit: int) -> tuple[Any, Any]:
    """Long single-line texts: both shown around their first difference, not just their beginnings."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return before, after
    if max(len(before), len(after)) <= limit:
        return before, after
    common = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    start = max(0, common - limit // 4)

    def cut(text: str) -> str:
        tail = "…" if len(text) > start + limit else ""
        return ("…" if start else "") + text[start : start + limit] + tail

    return cut(before), cut(after)


def text_diff(before: str, after: str) -> list[str]:
    """A unified diff of two texts, without its headers, at most ``DIFF_LINES`` lines."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
    # Inside a fence only control characters matter; indentation is kept, long lines are cut.
    body = [CONTROL.sub(" ", line)[:160].rstrip() for line in list(lines)[2:]]
    body = ["…" if line.startswith("@@") else line for line in body[1:]]  # the first is a @@
    if len(body) > DIFF_LINES:
        body = [*body[:DIFF_LINES], f"… {len(body) - DIFF_LINES} more lines"]
    return body


def _multiline(*values: Any) -> bool:
    return any(isinstance(v, str) and "\n" in v for v in values)


def transition(
    label: str,
    before: Any,
    after: Any,
    s: Style,
    excerpts: bool = True,
    verb: str = "",
    limit: int = EXCERPT_LIMIT,
) -> Detail:
    """``label<verb>: “before” → “after”`` (``verb`` such as " changed"), ``label<verb>`` over a diff
    for texts of several lines, ``label added: …`` or ``label removed (was …)``."""
    if _multiline(before, after) and all(isinstance(v, str | None) for v in (before, after)):
        what = f"{label} added" if before is None else f"{label} removed" if after is None else ""
        what = what or f"{label}{verb}"
        if excerpts:
            return Detail(what, tuple(text_diff(before or "", after or "")))
        lines = [(v or "").count("\n") + 1 for v in (before, after)]
        return Detail(f"{what} ({lines[0]} → {lines[1]} lines)")
    if before is None and after is not None:
        return Detail(f"{label} added: {quote(after, s, limit)}")
    if after is None and before is not None:
        return Detail(f"{label} removed (was {quote(before, s, limit)})")
    limit = limit if excerpts else 24
    old, new = focus(before, after, limit)
    return Detail(f"{label}{verb}: {quote(old, s, limit + 2)} → {quote(new, s, limit + 2)}")


def data_point(point: DataPointName, s: Style) -> str:
    """A data point by title and key: ``*PHQ-9 score* (`phq9_score`)``; a long question title is
    cut, the key never."""
    title = flatten(point.title, TITLE_IN_RULE)
    if title and point.key and title != point.key:
        return f"{s.name(title)} ({s.code(point.key)})"
    return s.name(title) if title else s.code(point.key or "?")


def data_point_by_id(ident: Any, s: Style, lookup: Lookup) -> str:
    if ident in (None, ""):
        return "(none)"
    return data_point(lookup.points.get(str(ident)) or DataPointName(str(ident)), s)


def words(name: str) -> str:
    return re.sub(r"[_.]+", " ", name).strip() or "value"


def capped(details: list[Detail]) -> list[Detail]:
    if len(details) <= DETAIL_CAP:
        return details
    return [*details[:DETAIL_CAP], Detail(f"… and {len(details) - DETAIL_CAP} more")]


def keyed(value: Any) -> dict[str, dict[str, Any]]:
    """A list of structures by identity (the first of ``_IDENTITY`` each has); ``{}`` when an item
    has none or two items share one, so that nothing is matched by a guess."""
    items = value if isinstance(value, list) else []
    for name in _IDENTITY:
        found = {
            str(i[name]): i for i in items if isinstance(i, dict) and i.get(name) not in (None, "")
        }
        if found and len(found) == len(items):
            return found
    return {}


def display_name(item: Mapping[str, Any], ident: str, s: Style) -> str:
    """How a listed item is named: its title, label or key, else its id."""
    for name in ("title", "label", "key", "text"):
        value = item.get(name)
        if isinstance(value, dict):
            value = next(iter(value.values()), "")
        if isinstance(value, str) and value:
            return s.name(value)
    return s.code(ident)


@dataclass(frozen=True)
class _Walk:
    s: Style
    excerpts: bool
    lookup: Lookup
    out: list[Detail]


def structure(
    before: Any,
    after: Any,
    s: Style,
    excerpts: bool,
    label: str = "",
    lookup: Lookup | None = None,
) -> list[Detail]:
    """Any structure, field by field: mappings by key, lists of components by id or key (named by
    title, label or key), lists of texts item by item; data point ids by the data point's name."""
    walk = _Walk(s, excerpts, lookup or Lookup(), [])
    _walk(before, after, label, "", walk)
    return capped(walk.out)


def _walk(before: Any, after: Any, label: str, key: str, w: _Walk) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for inner in sorted(before.keys() | after.keys(), key=str):
            name = f"{label} → {words(str(inner))}" if label else words(str(inner))
            if inner in before and inner in after:
                _walk(before[inner], after[inner], name, str(inner), w)
            else:
                _leaf(before.get(inner), after.get(inner), name, str(inner), w)
        return
    if isinstance(before, list) and isinstance(after, list):
        _walk_list(before, after, label, w)
        return
    _leaf(before, after, label or "value", key, w)


def _leaf(before: Any, after: Any, label: str, key: str, w: _Walk) -> None:
    if key.endswith("data_point_definition_id"):
        old, new = (data_point_by_id(v, w.s, w.lookup) for v in (before, after))
        w.out.append(Detail(f"{label.removesuffix(' definition id')}: {old} → {new}"))
        return
    w.out.append(transition(label, before, after, w.s, w.excerpts))


def _walk_list(before: list[Any], after: list[Any], label: str, w: _Walk) -> None:
    old, new = keyed(before), keyed(after)
    if (old or not before) and (new or not after) and (old or new):
        for ident in list(dict.fromkeys([*new, *old])):
            item = new.get(ident) or old[ident]
            named = display_name(item, ident, w.s)
            name = f"{label} {named}" if label else named
            if ident not in old:
                w.out.append(Detail(f"{name} added"))
            elif ident not in new:
                w.out.append(Detail(f"{name} removed"))
            else:
                _walk(old[ident], item, name, "", w)
        return
    if all(not isinstance(v, dict | list) for v in [*before, *after]):
        head = label or "item"
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        w.out.extend(Detail(f"{head} {quote(v, w.s)} added") for v in added)
        w.out.extend(Detail(f"{head} {quote(v, w.s)} removed") for v in removed)
        if not added and not removed:
            w.out.append(Detail(f"{head}s reordered" if label else "order changed"))
        return
    for index in range(max(len(before), len(after))):  # no identity: by position, said as such
        b = before[index] if index < len(before) else None
        a = after[index] if index < len(after) else None
        _walk(b, a, f"{label or 'item'} {index + 1}", "", w)


def carried_name(field_name: str, s: Style | None = None) -> str | None:
    """``Awell field `name` (kept as is)`` for a field syncer carries verbatim, else None."""
    for prefix, words in CARRIED:
        if field_name.startswith(prefix):
            name = field_name[len(prefix) :]
            return f"{words} {s.code(name) if s else flatten(name, 60)} (kept as is)"
    return None
