"""Concealed constants and extension settings on their way into and out of the tenant. Pure, no I/O.

A request may carry ``value`` on a concealed item (set it) or leave it out (keep what is stored). Either way
the value is split off here, before anything else sees the document: validation, hashing, storage of the
definition and history only ever handle the document without concealed values. On the way out, each
concealed item carries ``has_value`` instead.

The walk is deliberately more forgiving than ``model.iter_value_items`` (a constant without ``key`` is
still found), so that a malformed request cannot slip a concealed value past the split into an error
message.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..model import mask_secrets

_DEFINITION_POINTER = "/definition"


@dataclass(frozen=True)
class Incoming:
    """A definition from a request, its concealed values taken out."""

    definition: dict[str, Any]  # no concealed value and no has_value anywhere: what is validated
    secrets: dict[str, Any] = field(default_factory=dict)  # slot -> value sent (None: set blank)
    concealed_slots: tuple[str, ...] = ()  # every concealed item's slot (its id), in document order
    problems: list[tuple[str, str]] = field(default_factory=list)  # (JSON pointer, message)
    sent_values: tuple[str, ...] = ()  # textual forms of the values sent, for redaction

    def redact(self, text: str) -> str:
        """``text`` with every concealed value of the request masked, in every encoding it could
        take (``model.mask_secrets``; defence in depth)."""
        return mask_secrets(text, self.sent_values)


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON Pointer."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def value_items(definition: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(pointer, item)`` for every constant and extension setting that is a mapping."""
    spec = definition.get("spec") if isinstance(definition, dict) else None
    settings = spec.get("settings") if isinstance(spec, dict) else None
    if not isinstance(settings, dict):
        return
    base = ("spec", "settings")
    constants = settings.get("constants")
    if isinstance(constants, list):
        for index, item in enumerate(constants):
            if isinstance(item, dict):
                yield pointer(*base, "constants", index), item
    extensions = settings.get("extensions")
    if isinstance(extensions, dict):
        for extension, items in extensions.items():
            if isinstance(items, dict):
                for name, item in items.items():
                    if isinstance(item, dict):
                        yield pointer(*base, "extensions", extension, name), item


def split(definition: dict[str, Any]) -> Incoming:
    """Take concealed values (and every server-computed ``has_value``) out of a request definition."""
    document = copy.deepcopy(definition)
    secrets: dict[str, Any] = {}
    slots: list[str] = []
    problems: list[tuple[str, str]] = []
    sent: set[str] = set()
    for where, item in value_items(document):
        item.pop("has_value", None)  # computed by the tenant; a client may echo it back from a GET
        if not item.get("concealed"):
            continue
        has_value, value = "value" in item, item.pop("value", None)
        slot = item.get("id")
        if not isinstance(slot, str) or not slot:
            problems.append(
                (_DEFINITION_POINTER + where, "a concealed item needs a non-empty `id`.")
            )
            continue
        if slot in slots:
            problems.append(
                (_DEFINITION_POINTER + where, f"another concealed item has id {slot!r}.")
            )
            continue
        slots.append(slot)
        if has_value:
            secrets[slot] = None if value in (None, "") else value
    sent.update(_values_marked_concealed(definition))
    return Incoming(document, secrets, tuple(slots), problems, tuple(sent))


def _values_marked_concealed(definition: Any) -> set[str]:
    """Values of any mapping marked concealed, wherever it sits (even misplaced), for redaction."""
    found: set[str] = set()
    stack = [definition]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get("value") if node.get("concealed") else None
            if value not in (None, ""):
                found.update({value if isinstance(value, str) else json.dumps(value), str(value)})
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def public_definition(incoming: Incoming, with_value: set[str]) -> dict[str, Any]:
    """The stored and returned document: each concealed item carries ``has_value``."""
    document = copy.deepcopy(incoming.definition)
    for _where, item in value_items(document):
        if item.get("concealed"):
            item["has_value"] = item.get("id") in with_value
    return document
