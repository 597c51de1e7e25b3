"""Semantic differences between two care-flow documents. Pure: data in, data out.

A document is flattened into components (tracks, steps, actions, forms, questions, ...), each keyed by
kind and id and carrying a *trail* that names it for a reader (track *Main* → step *Intake*). Two
documents are compared component by component and field by field, so a change is reported as "step
*Intake*: title changed", never as "spec.tracks[0].steps[3]". Constant and extension-setting values are not
compared here (the constants rules judge them); the canvas layout is summarised as one cosmetic change.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from ..canonical import remove_paths
from ..model import VENDOR_COMPONENTS, VENDOR_ENTRY_FIELDS, VENDOR_FIELDS, Change, Component
from . import names as naming

# Top-level lists of ``spec`` and the kind of component each holds.
_TOP_LISTS: dict[str, str] = {
    "stakeholders": "stakeholder",
    "labels": "label",
    "rules": "rule",
    "triggers": "trigger",
    "timings": "timing",
    "data_point_definitions": "data_point_definition",
    "dynamic_variables": "dynamic_variable",
    "messages": "message",
    "clinical_notes": "clinical_note",
    "extension_webhooks": "extension_webhook",
}
_CHILD_LISTS = {"steps", "actions", "transitions", "questions"}
_VALUE_FIELDS = {"value", "has_value"}


@dataclass
class _Entry:
    component: Component
    path: str
    trail: list[Component]
    fields: dict[str, Any]
    order: list[str] = field(default_factory=list)  # ids of ordered children (actions, questions)


def _name(item: dict[str, Any]) -> str:
    for key in ("title", "label", "key", "subject", "webhook_key", "text"):
        value = item.get(key)
        if isinstance(value, dict):
            value = next(iter(value.values()), "")
        if value:
            return str(value)
    return ""


def _ref(item: dict[str, Any]) -> str:
    return str(item.get("key") or item.get("id", "?"))


def _fields(item: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """A component's own fields; each field carried verbatim is a field of its own, named by its path
    (``vendor_fields.<name>``), so that a change to one says which."""
    drop = set(skip) | _CHILD_LISTS
    fields = {k: v for k, v in item.items() if k not in drop and k not in _CARRIED}
    for carried in _CARRIED:
        values = item.get(carried)
        if isinstance(values, dict):
            fields.update({f"{carried}.{name}": value for name, value in values.items()})
    return fields


_CARRIED = (VENDOR_FIELDS, VENDOR_ENTRY_FIELDS)


def _index(document: dict[str, Any]) -> dict[tuple[str, str], _Entry]:
    entries: dict[tuple[str, str], _Entry] = {}

    def add(
        kind: str, item: dict[str, Any], path: str, parent: list[Component], **kw: Any
    ) -> _Entry:
        ident = str(item.get("id", path))
        comp = Component(
            kind, ident, str(item.get("key") or ""), _name(item), str(item.get("type") or "")
        )
        entry = _Entry(comp, path, [*parent, comp], kw.pop("fields", _fields(item)), **kw)
        entries[(kind, ident)] = entry
        return entry

    metadata = document.get("metadata") or {}
    spec = document.get("spec") or {}
    flow_fields = {k: v for k, v in metadata.items() if k != "definition_id"}
    if "team_id" in spec:
        flow_fields["team_id"] = spec["team_id"]
    flow = {"id": metadata.get("definition_id", "flow"), "key": metadata.get("key"), **metadata}
    add("flow", flow, "metadata", [], fields=flow_fields)
    # The pathway's own fields syncer does not model live in spec: always indexed (maybe empty), so
    # that one appearing is a changed field, not an added component.
    carried = _fields({name: spec[name] for name in _CARRIED if name in spec})
    definition = {"id": "definition", "title": str(metadata.get("title") or "")}
    add("care_flow", definition, "", [], fields=carried)
    settings = spec.get("settings") or {}
    if "reminders" in settings:
        add(
            "settings",
            {"id": "reminders", "title": "reminders"},
            "settings.reminders",
            [],
            fields={"reminders": settings["reminders"]},
        )
    carried = _fields({name: settings[name] for name in _CARRIED if name in settings})
    if carried:
        add("settings", {"id": "settings", "title": "settings"}, "settings", [], fields=carried)
    for constant in settings.get("constants") or []:
        add(
            "constant",
            constant,
            f"settings.constants[{_ref(constant)}]",
            [],
            fields=_fields(constant, _VALUE_FIELDS),
        )
    for ext, items in sorted((settings.get("extensions") or {}).items()):
        for name, item in sorted((items or {}).items()):
            comp_item = {"id": f"{ext}.{name}", "key": f"{ext}.{name}", "label": item.get("label")}
            add(
                "extension_setting",
                comp_item,
                f"settings.extensions.{ext}.{name}",
                [],
                fields=_fields(item, _VALUE_FIELDS),
            )
    titles = _titles(document)
    for list_name, kind in _TOP_LISTS.items():
        for item in spec.get(list_name) or []:
            title = titles(kind, item)
            named = {**item, "title": title} if title else item
            add(kind, named, f"{list_name}[{_ref(item)}]", [], fields=_fields(item))
    _index_tracks(spec, add)
    _index_carried_components(spec, add)
    for form in spec.get("forms") or []:
        form_entry = add(
            "form",
            form,
            f"forms[{_ref(form)}]",
            [],
            order=[str(q.get("id")) for q in form.get("questions") or []],
        )
        for question in form.get("questions") or []:
            add(
                "question",
                question,
                f"{form_entry.path}.questions[{_ref(question)}]",
                form_entry.trail,
            )
    return entries


def _titles(document: dict[str, Any]) -> Any:
    """Titles for the components that have none of their own: a rule reads as its conditions, a
    trigger as what starts it, a timing as its delay."""
    spec = document.get("spec") or {}
    points = naming.data_point_names(document)
    components = naming.component_titles(document)
    rules = naming.by_id(spec.get("rules"))

    def title(kind: str, item: dict[str, Any]) -> str:
        if kind == "rule":  # keys, not question titles: a title that names a rule stays short
            return naming.rule_words(item, points, naming.short, limit=2)
        if kind == "trigger":
            return naming.trigger_title(item, points, components, rules)
        if kind == "timing":
            return naming.delay_words(item.get("delay"))
        return ""

    return title


def _index_tracks(spec: dict[str, Any], add: Any) -> None:
    names = {}
    for track in spec.get("tracks") or []:
        names[str(track.get("id"))] = ("start of " + _name(track), "end of " + _name(track))
        for step in track.get("steps") or []:
            names[str(step.get("id"))] = (_name(step), _name(step))
    for track in spec.get("tracks") or []:
        track_entry = add("track", track, f"tracks[{_ref(track)}]", [])
        for step in track.get("steps") or []:
            step_entry = add(
                "step",
                step,
                f"{track_entry.path}.steps[{_ref(step)}]",
                track_entry.trail,
                order=[str(a.get("id")) for a in step.get("actions") or []],
            )
            for action in step.get("actions") or []:
                add(
                    "action",
                    action,
                    f"{step_entry.path}.actions[{action.get('id')}]",
                    step_entry.trail,
                )
        for transition in track.get("transitions") or []:
            origin = (transition.get("origin") or {}).get("node_id", "")
            target = (transition.get("destination") or {}).get("node_id", "")
            title = f"{names.get(origin, (origin,))[0]} → {names.get(target, (target, target))[1]}"
            add(
                "transition",
                {**transition, "title": title},
                f"{track_entry.path}.transitions[{transition.get('id')}]",
                track_entry.trail,
                fields=_fields(transition),
            )


def _index_carried_components(spec: dict[str, Any], add: Any) -> None:
    """Component files syncer does not model: each entry a component, named by its ``_key``."""
    carried = spec.get(VENDOR_COMPONENTS)
    for folder, entries in sorted(carried.items() if isinstance(carried, dict) else []):
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            entry = entry if isinstance(entry, dict) else {"entry": entry}
            payload = entry.get(str(entry.get("type")))
            payload = payload if isinstance(payload, dict) else {}
            ident = str(payload.get("_key", index))
            item = {**payload, "id": f"{folder}/{ident}", "key": ident, "type": entry.get("type")}
            fields = {k: v for k, v in payload.items() if k not in ("_key", "definition_id")}
            fields.update(
                {f"entry.{k}": v for k, v in entry.items() if k not in ("type", entry.get("type"))}
            )
            add(
                "vendor_component",
                item,
                f"{VENDOR_COMPONENTS}.{folder}[{ident}]",
                [],
                fields=fields,
            )


def diff(before: dict[str, Any], after: dict[str, Any], ignore: Iterable[str] = ()) -> list[Change]:
    """What changes when ``before`` becomes ``after``, component by component."""
    ignore = list(ignore)
    if ignore:
        before = remove_paths(copy.deepcopy(before), ignore)
        after = remove_paths(copy.deepcopy(after), ignore)
    old, new = _index(before), _index(after)
    changes: list[Change] = []
    for key in sorted(old.keys() - new.keys(), key=lambda k: old[k].path):
        changes.append(_whole(old[key], "removed"))
    for key in sorted(new.keys() - old.keys(), key=lambda k: new[k].path):
        changes.append(_whole(new[key], "added"))
    for key in sorted(old.keys() & new.keys(), key=lambda k: new[k].path):
        changes.extend(_compare(old[key], new[key]))
    layout = _layout_change(before.get("layout") or {}, after.get("layout") or {})
    if layout:
        changes.append(layout)
    for change in changes:
        _mark_breaking(change)
        change.description = describe(change)
    return changes


def _whole(entry: _Entry, kind: str) -> Change:
    value = entry.fields
    return Change(
        entry.path,
        kind,
        value if kind == "removed" else None,
        value if kind == "added" else None,
        trail=entry.trail,
    )


def _compare(old: _Entry, new: _Entry) -> Iterator[Change]:
    # The flow's own title and key live in metadata; the trail is named after the new side.
    for name in sorted(old.fields.keys() | new.fields.keys()):
        if name == "title" and old.component.kind == "transition":
            continue  # a derived label, not a field
        before, after = old.fields.get(name), new.fields.get(name)
        if before != after:
            path = f"{new.path}.{name}" if new.path else name
            yield Change(path, "changed", before, after, trail=new.trail, field=name)
    if old.order != new.order and set(old.order) == set(new.order):
        child = "questions" if new.component.kind == "form" else "actions"
        yield Change(
            f"{new.path}.{child}",
            "changed",
            old.order,
            new.order,
            trail=new.trail,
            field=f"{child} order",
        )


def _layout_change(before: dict[str, Any], after: dict[str, Any]) -> Change | None:
    if before == after:
        return None
    moved = 0
    for group in ("tracks", "steps"):
        old, new = before.get(group) or {}, after.get(group) or {}
        moved += sum(1 for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    summary = f"{moved} box{'es' if moved != 1 else ''} moved on the canvas"
    return Change(
        "layout", "changed", None, summary, field="layout", cosmetic=True, description=summary
    )


def _mark_breaking(change: Change) -> None:
    comp = change.trail[-1] if change.trail else None
    if comp is None:
        return
    label = f"`{comp.key or comp.title or comp.id}`"
    reason = ""
    if change.kind == "removed":
        reason = {
            "data_point_definition": f"data point {label} removed: integrations and reports that read "
            "it by id or key will get nothing",
            "track": f"track {label} removed: integrations that start or follow it by id will fail",
            "form": f"form {label} removed: integrations that read its responses will get nothing",
            "question": f"question {label} removed: integrations that read this answer by key will "
            "get nothing",
            "constant": f"constant {label} removed: placeholders and environment files that name it "
            "will no longer resolve",
        }.get(comp.kind, "")
    elif change.kind == "changed" and change.field == "value_type":
        if comp.kind == "data_point_definition":
            reason = (
                f"data point {label} changes type from {change.before} to {change.after}: "
                "integrations parsing its value will break"
            )
    elif (
        change.kind == "changed"
        and change.field == "key"
        and comp.kind in {"data_point_definition", "track", "form", "question", "constant"}
    ):
        reason = (
            f"{comp.kind.replace('_', ' ')} key renamed from `{change.before}` to "
            f"`{change.after}`: integrations that look it up by key will not find it"
        )
    if reason:
        change.breaking = True
        change.breaking_reason = reason


def describe(change: Change) -> str:
    """A plain-text sentence for a change: "track Main → step Intake: title changed"."""
    if change.cosmetic:
        return str(change.after)
    names = []
    for comp in change.trail:
        label = comp.title or comp.key or comp.id
        suffix = f" ({comp.type})" if comp.kind == "action" and comp.type else ""
        names.append(f"{comp.kind.replace('_', ' ')} {label}{suffix}")
    where = " → ".join(names) or change.path
    if change.kind != "changed":
        return f"{where}: {change.kind}"
    detail = change.field
    for carried, words in (
        (VENDOR_FIELDS, "Awell field"),
        (VENDOR_ENTRY_FIELDS, "Awell entry field"),
    ):
        if detail.startswith(carried + "."):
            detail = f"{words} `{detail[len(carried) + 1 :]}` (kept as is)"
    if isinstance(change.before, dict | list) and isinstance(change.after, dict | list):
        inner = DeepDiff(change.before, change.after, verbose_level=0).affected_paths
        if inner and len(inner) <= 3:
            detail += " (" + ", ".join(sorted(p.replace("root", "", 1) for p in inner)) + ")"
    return f"{where}: {detail} changed"


def breaking(changes: Iterable[Change]) -> bool:
    return any(c.breaking for c in changes)


def cosmetic_only(changes: Iterable[Change]) -> bool:
    items = list(changes)
    return bool(items) and all(c.cosmetic for c in items)
