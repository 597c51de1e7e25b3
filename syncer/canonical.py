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
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem
from .model import VERBATIM_KEYS, flow_file_header, iter_value_items
from .yamlio import dump

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


# What syncer does not model comes after everything it does, so a reader sees the known fields first.
_LAST = len(_PRIORITY) + 1


def _key_order(key: str) -> tuple[int, str]:
    return (_LAST if key in VERBATIM_KEYS else _PRIORITY.get(key, len(_PRIORITY)), key)


def _nested_key_order(key: str) -> tuple[int, str]:
    if key in VERBATIM_KEYS:
        return (_LAST, key)
    return (len(_PRIORITY) if key in _TOP_ONLY else _PRIORITY.get(key, len(_PRIORITY)), key)


def canonicalize(document: Any) -> Any:
    """Return a canonical deep copy of a care-flow document (or any part of one)."""
    return _canonical(document, parent=_ROOT, data_keyed=False)


def _canonical(value: Any, parent: str | None, data_keyed: bool) -> Any:
    if parent in VERBATIM_KEYS:
        return verbatim(value)
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


def verbatim(value: Any) -> Any:
    """A copy of data syncer does not model (``vendor_fields``): mapping keys sorted at every depth,
    lists and values exactly as they are (no list here is ours to sort)."""
    if isinstance(value, dict):
        return {k: verbatim(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [verbatim(v) for v in value]
    return value


def plain_copy(value: Any) -> Any:
    """A deep copy of plain data (mappings, lists, scalars), as ``copy.deepcopy`` makes it, several
    times faster: care-flow documents are JSON data, without shared or exotic objects."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v) for v in value]
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


# The hashes below change a copy in place: ``_hash_form`` copies every mapping and list and sorts the
# lists ``canonicalize`` sorts; the JSON they hash sorts keys itself. So this equals hashing the canonical
# form of a changed deep copy, with one copy of a large flow instead of two and no key ordering.


def _hash_form(value: Any, parent: str | None = _ROOT) -> Any:
    """``canonicalize(value)`` up to the order of mapping keys (which ``canonical_json`` sorts)."""
    if parent in VERBATIM_KEYS:
        return plain_copy(value)
    if isinstance(value, dict):
        return {k: _hash_form(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_hash_form(item, None) for item in value]
        if parent in SORTED_LISTS and all(isinstance(i, dict) and "id" in i for i in items):
            items.sort(key=lambda item: str(item["id"]))
        return items
    return value


def content_hash(document: dict[str, Any]) -> str:
    """The tenant's content hash: no layout, concealed values replaced by ``has_value``."""
    body = _hash_form(without_layout(document))
    for _ref, item in iter_value_items(body):
        if item.get("concealed"):
            has_value = bool(item.pop("value", None)) or bool(item.get("has_value"))
            item["has_value"] = has_value
    return sha256(body)


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
    body = _hash_form(without_layout(document))
    for _ref, item in iter_value_items(body):
        item.pop("value", None)
        item.pop("has_value", None)
    return sha256(remove_paths(body, ignore))


def layout_hash(document: dict[str, Any]) -> str:
    return sha256(canonicalize(document.get("layout") or {}))


# --- digests ---------------------------------------------------------------------------------------------

DIGEST_FORMAT = 2

# A warning kept with a digest: (file, message, line, column, hint), said again without a parse.
DraftWarning = tuple[str, str, int | None, int | None, str | None]


def ignore_key(paths: Iterable[str]) -> str:
    """The key of an environment's ``ignore`` paths in ``Digest.shape_hashes`` (order and repeats do
    not change what is removed)."""
    return _ignore_key(paths if isinstance(paths, tuple) else tuple(paths))


@functools.lru_cache(maxsize=256)
def _ignore_key(paths: tuple[str, ...]) -> str:
    return "\n".join(sorted(set(paths)))


@dataclass(frozen=True)
class Digest:
    """What a plan needs of a flow file without its document: ids, hashes and constant values.

    Computed once per file content (the workspace keeps it by Git blob id), so that a plan whose flows
    the tenant's list proves in sync never loads, parses or hashes a document.
    """

    definition_id: str
    key: str
    title: str
    layout_hash: str
    values: tuple[
        tuple[str, bool, Any], ...
    ]  # (ref, concealed, Git's value) per value item, in order
    shape_hashes: dict[str, str] = field(default_factory=dict)  # ignore_key(paths) -> shape hash
    fingerprint: str = ""  # sha256 of the document's JSON, key order kept (what the file renders)
    canonical: bool = False  # the file's bytes are exactly ``dump(document)``: written by syncer
    warnings: tuple[
        DraftWarning, ...
    ] = ()  # what the draft leaves unfinished (validate's warnings)

    def warning_problems(self) -> list[Problem]:
        """The file's warnings as the validation gave them."""
        return [Problem(*w, warning=True) for w in self.warnings]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DIGEST_FORMAT,
            "definition_id": self.definition_id,
            "key": self.key,
            "title": self.title,
            "layout_hash": self.layout_hash,
            "values": [list(v) for v in self.values],
            "shape_hashes": dict(self.shape_hashes),
            "fingerprint": self.fingerprint,
            "canonical": self.canonical,
            "warnings": [list(w) for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: Any) -> Digest | None:
        """The digest saved by ``to_json``, or None when it is from another format or damaged."""
        if not isinstance(data, dict) or data.get("format") != DIGEST_FORMAT:
            return None
        try:
            values = tuple((str(r), bool(c), v) for r, c, v in data["values"])
            return cls(
                str(data["definition_id"]),
                str(data["key"]),
                str(data["title"]),
                str(data["layout_hash"]),
                values,
                {str(k): str(v) for k, v in data["shape_hashes"].items()},
                str(data["fingerprint"]),
                bool(data["canonical"]),
                tuple(_warning(w) for w in data["warnings"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def _warning(data: Any) -> DraftWarning:
    path, message, line, column, hint = data
    return (
        str(path),
        str(message),
        None if line is None else int(line),
        None if column is None else int(column),
        None if hint is None else str(hint),
    )


def warnings_of(problems: Iterable[Problem]) -> tuple[DraftWarning, ...]:
    """Warnings in the form a digest keeps them."""
    return tuple((p.path, p.message, p.line, p.column, p.hint) for p in problems)


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 of the document's JSON as it is (keys in their order): equal fingerprints of canonical
    documents mean equal files."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(
    document: dict[str, Any],
    *,
    canonical: bool = False,
    ignores: Iterable[Iterable[str]] = (),
    warnings: Iterable[Problem] = (),
) -> Digest:
    """The digest of a valid care-flow document: its plain, no-ignore shape hash included, the shape
    hash for each set of ``ignores`` paths, and the ``warnings`` its validation gave."""
    metadata = document["metadata"]
    values = tuple(
        (ref, bool(item.get("concealed")), item.get("value"))
        for ref, item in iter_value_items(document)
    )
    return Digest(
        definition_id=str(metadata["definition_id"]),
        key=str(metadata.get("key", "")),
        title=str(metadata.get("title", "")),
        layout_hash=layout_hash(document),
        values=values,
        shape_hashes={ignore_key(p): shape_hash(document, p) for p in [(), *ignores]},
        fingerprint=fingerprint(document),
        canonical=canonical,
        warnings=warnings_of(warnings),
    )


# -- the file form ----------------------------------------------------------------------------------


def to_file_form(definition: dict[str, Any]) -> dict[str, Any]:
    """A tenant definition as it is written to Git: canonical, no concealed value, no has_value."""
    document: dict[str, Any] = canonicalize(definition)  # a copy: changed in place below
    for _ref, item in iter_value_items(document):
        item.pop("has_value", None)
        if item.get("concealed"):
            item.pop("value", None)
    return document


def render_flow(document: dict[str, Any]) -> str:
    """The text of ``flows/<key>/flow.yaml`` for a flow document: canonical YAML with its header."""
    return dump(canonicalize(document), flow_file_header())
