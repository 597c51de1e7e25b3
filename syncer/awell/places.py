"""Where a place in the canonical document came from in Awell's export. Pure: data in, data out.

The importer checks the file it is about to write; a finding there is about the flow file, but the person
importing knows the export. ``awell_place`` names the export file, the component's ``_key`` and the field
with Awell's names, e.g. ``actions/actions.json: action `n8Fq5ly2ik5L`, field `plugin_fields[0].required```.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model import VENDOR_COMPONENTS, VENDOR_FIELDS
from . import tables as t

_NESTED = {
    ("tracks", "steps"): t.STEP,
    ("steps", "actions"): t.ACTION,
    ("tracks", "transitions"): t.TRANSITION,
    ("forms", "questions"): t.QUESTION,
}
_TOP: dict[str, t.ComponentTable] = {
    **{name: kind for kind, name in t.TOP_LEVEL_LISTS},
    "tracks": t.TRACK,
    "triggers": t.TRIGGER,
    "forms": t.FORM,
    "extension_webhooks": t.EXTENSION_WEBHOOK,
}
_SETTINGS = {"extensions": "plugins"}


Place = tuple[str, str]  # (export file, "action `KEY`, field `FIELD`")


def awell_place(document: Any, node: Sequence[str | int]) -> Place | None:
    """The export file, and the component's ``_key`` and field, of the place ``node`` names in
    ``document``; None outside what Awell exported."""
    path = list(node)
    if path[:1] == ["layout"] and len(path) >= 3:
        kind = t.STEP if path[1] == "steps" else t.TRACK
        corner = f"{path[3]}_coordinates" if kind is t.TRACK and len(path) > 3 else "coordinates"
        return _describe(kind, str(path[2]), [corner, *path[4:]])
    if path[:1] == ["metadata"]:
        return _describe(t.PATHWAY, _flow_id(document), path[1:])
    if path[:1] != ["spec"] or len(path) < 2:
        return None
    return _in_spec(
        document.get("spec") if isinstance(document, dict) else None, document, path[1:]
    )


def _in_spec(spec: Any, document: Any, path: list[str | int]) -> Place | None:
    head = path[0]
    if head == "settings":
        rest = [_SETTINGS.get(str(p), p) if i == 0 else p for i, p in enumerate(path[1:])]
        return _describe(t.SETTINGS, _flow_id(document), rest)
    if head == VENDOR_COMPONENTS and len(path) >= 2:
        where = f"entry {path[2]}" if len(path) > 2 else "the file"
        return f"{path[1]}/{path[1]}.json", where
    kind = _TOP.get(str(head))
    if kind is None or len(path) < 2 or not isinstance(spec, dict):
        return _describe(t.PATHWAY, _flow_id(document), path)
    return _walk(kind, spec.get(head), path[1:], str(head))


def _walk(kind: t.ComponentTable, items: Any, path: list[str | int], list_name: str) -> Place:
    """Descend through nested components (tracks → steps → actions) to the deepest one named."""
    item = _item(items, path[0])
    key = str(item.get("id")) if isinstance(item, dict) else f"entry {path[0]}"
    rest = path[1:]
    if len(rest) >= 2 and (list_name, rest[0]) in _NESTED and isinstance(item, dict):
        child = _NESTED[(list_name, str(rest[0]))]
        return _walk(child, item.get(str(rest[0])), rest[1:], str(rest[0]))
    action_type = str(item.get("type")) if isinstance(item, dict) else ""
    return _describe(kind, key, rest, action_type)


def _item(items: Any, index: str | int) -> Any:
    if isinstance(items, list) and isinstance(index, int) and 0 <= index < len(items):
        return items[index]
    return None


def _describe(
    kind: t.ComponentTable, key: str, rest: Sequence[str | int], action_type: str = ""
) -> Place:
    subject = f"{kind.type} `{key}`"
    field = _awell_field(kind, rest, action_type)
    return kind.file, f"{subject}, field `{field}`" if field else subject


def _awell_field(kind: t.ComponentTable, rest: Sequence[str | int], action_type: str) -> str:
    """The field with Awell's names: ``value_type`` → ``valueType``; carried fields by their own."""
    if not rest:
        return ""
    parts = list(rest)
    if parts[0] == VENDOR_FIELDS:
        parts = parts[1:]
    elif isinstance(parts[0], str):
        shape = t.ACTION_SHAPES.get(action_type, t.UNMODELLED_ACTION)
        names = dict(t.reverse(kind.fields + shape.fields))
        nested = {**shape.items, **shape.objects}.get(parts[0])
        parts[0] = names.get(parts[0], parts[0])
        field_at = 2 if nested is not None and len(parts) > 2 and isinstance(parts[1], int) else 1
        inner = parts[field_at] if len(parts) > field_at else None
        if nested is not None and isinstance(inner, str):
            parts[field_at] = dict(t.reverse(nested)).get(inner, inner)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _flow_id(document: Any) -> str:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    return str(metadata.get("definition_id", "?")) if isinstance(metadata, dict) else "?"
