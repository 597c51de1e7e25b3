"""The canonical form of a care-flow document, and the hashes computed over it.

Canonical means: keys in a fixed order, lists whose order has no meaning sorted by ``id``, volatile fields
absent. Two exports of the same working version give equal canonical documents, and so byte-identical files.

Three hashes exist, each SHA-256 over canonical JSON (sorted keys, no whitespace, UTF-8):

- ``content_hash``: the tenant's hash (SPEC 5) — the definition without ``layout``, concealed values
  replaced by their ``has_value`` flag;
- ``shape_hash``: what the three-way model compares (SPEC 6) — without ``layout`` and without any constant
  or extension-setting value, minus the environment's ``ignore`` paths;
- ``layout_hash``: the canvas coordinates alone, so a moved box is a separate, cosmetic change.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from .model import iter_value_items

# Keys that come first, in this order, wherever they appear; all other keys follow alphabetically.
KEY_PRIORITY: tuple[str, ...] = (
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "definition_id",
    "id",
    "key",
    "name",
    "type",
    "title",
    "label",
    "description",
    "subject",
    "team_id",
    "settings",
    "reminders",
    "constants",
    "extensions",
    "stakeholders",
    "labels",
    "tracks",
    "steps",
    "actions",
    "transitions",
    "rules",
    "triggers",
    "timings",
    "data_point_definitions",
    "dynamic_variables",
    "forms",
    "questions",
    "messages",
    "clinical_notes",
    "extension_webhooks",
    "origin",
    "destination",
    "target",
    "value",
    "concealed",
    "has_value",
    "layout",
)
_PRIORITY = {key: index for index, key in enumerate(KEY_PRIORITY)}

# Lists whose order has no meaning: sorted by ``id`` wherever a field of this name holds a list.
SORTED_LISTS: frozenset[str] = frozenset(
    {
        "tracks",
        "steps",
        "transitions",
        "stakeholders",
        "labels",
        "rules",
        "triggers",
        "timings",
        "data_point_definitions",
        "dynamic_variables",
        "forms",
        "messages",
        "clinical_notes",
        "extension_webhooks",
        "constants",
    }
)

# Mappings whose keys are data (extension names, setting names, component ids, languages): their keys are
# sorted plainly, and the maps nested one level below them are data-keyed too where noted.
_DATA_KEYED_CHILDREN = {"extensions": True, "layout": True, "annotations": False, "content": False}


# Keys that only lead at the top of a document; deeper down (a data point's ``metadata``) they sort
# like any other key.
_ROOT = "\x00root"
_TOP_ONLY = frozenset({"apiVersion", "kind", "metadata", "spec", "layout"})


def _key_order(key: str) -> tuple[int, str]:
    return (_PRIORITY.get(key, len(_PRIORITY)), key)


def _nested_key_order(key: str) -> tuple[int, str]:
    return (len(_PRIORITY) if key in _TOP_ONLY else _PRIORITY.get(key, len(_PRIORITY)), key)


def canonicalize(document: Any) -> Any:
    """Return a canonical deep copy of a care-flow document (or any part of one)."""
    return _canonical(document, parent=_ROOT, data_keyed=False)


def _canonical(value: Any, parent: str | None, data_keyed: bool) -> Any:
    if isinstance(value, dict):
        if data_keyed:
            ordered = sorted(value)
            return {k: _canonical(value[k], k, parent in _DATA_KEYED_CHILDREN) for k in ordered}
        ordered = sorted(value, key=_key_order if parent == _ROOT else _nested_key_order)
        return {
            k: _canonical(value[k], k, k in _DATA_KEYED_CHILDREN and parent != "layout")
            for k in ordered
        }
    if isinstance(value, list):
        items = [_canonical(item, None, False) for item in value]
        if parent in SORTED_LISTS and all(isinstance(i, dict) and "id" in i for i in items):
            items.sort(key=lambda item: str(item["id"]))
        return items
    return value


def canonical_json(value: Any) -> bytes:
    """The byte string every hash is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def without_layout(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "layout"}


def content_hash(document: dict[str, Any]) -> str:
    """The tenant's content hash: no layout, concealed values replaced by ``has_value``."""
    body = copy.deepcopy(without_layout(document))
    for _ref, item in iter_value_items(body):
        if item.get("concealed"):
            has_value = bool(item.pop("value", None)) or bool(item.get("has_value"))
            item["has_value"] = has_value
    return sha256(canonicalize(body))


def strip_values(document: dict[str, Any]) -> dict[str, Any]:
    """A copy without layout and without any constant or extension-setting value (or has_value)."""
    body = copy.deepcopy(without_layout(document))
    for _ref, item in iter_value_items(body):
        item.pop("value", None)
        item.pop("has_value", None)
    return body


def remove_paths(document: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """Remove dotted paths (``spec.settings.reminders``) in place; missing paths are ignored."""
    for dotted in paths:
        parts = dotted.split(".")
        node: Any = document
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return document


def shape_hash(document: dict[str, Any], ignore: Iterable[str] = ()) -> str:
    """What the three-way model compares: no layout, no values, minus ignored paths."""
    return sha256(canonicalize(remove_paths(strip_values(document), ignore)))


def layout_hash(document: dict[str, Any]) -> str:
    return sha256(canonicalize(document.get("layout") or {}))
