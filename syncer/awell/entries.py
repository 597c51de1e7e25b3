"""An export's parsed files → entries indexed by ``_key``, per component type. Pure: data in, data out.

Each entry is ``{"type": T, T: {...}}`` (the settings' payload key is ``pathway_settings``). Checked here:
the entry is an object of the file's type, with a ``_key`` equal to its ``definition_id`` and given once —
ids are never remapped, so an entry that breaks these rules cannot be placed and is a problem. Whatever
else Awell writes is kept: fields next to ``type`` become the component's ``vendor_entry_fields``, and a
component file syncer does not model (``sticky_notes/``, ``api_calls/`` in newer Studio releases) is
carried whole under ``spec.vendor_components``, its entries in Awell's order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import VENDOR_COMPONENTS
from . import tables as t
from .inbound import Entries, Envelopes, Issues

FOLDER_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # a carried component file's folder
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,256}$")


@dataclass
class Unwrapped:
    """The entries of every known component file, and what is carried of the rest."""

    entries: dict[str, Entries]  # type -> _key -> payload
    envelopes: Envelopes = field(default_factory=dict)
    carried: dict[str, list[Any]] = field(default_factory=dict)  # unknown folder -> entries


def unwrap(components: Mapping[str, Any], issues: Issues) -> Unwrapped:
    """Check each file's entries and index them by ``_key``, per component type."""
    result = Unwrapped({kind.type: {} for kind in t.KINDS})
    for folder, data in components.items():
        kind = t.KIND_BY_FOLDER.get(folder)
        if kind is None:
            _carry_folder(folder, data, result, issues)
        elif not isinstance(data, list):
            issues.add(kind.file, "", "must hold a JSON array of components.")
        else:
            for index, entry in enumerate(data):
                _unwrap_entry(kind, index, entry, result, issues)
    for folder in t.REQUIRED_FOLDERS:
        count = len(result.entries[t.KIND_BY_FOLDER[folder].type])
        if count != 1:
            issues.add(f"{folder}/{folder}.json", "", f"must hold exactly one entry, not {count}.")
    return result


def _unwrap_entry(
    kind: t.ComponentTable, index: int, entry: Any, into: Unwrapped, issues: Issues
) -> None:
    if not isinstance(entry, dict):
        issues.add(kind.file, f"entry {index}", "is not a JSON object.")
        return
    entry_type = entry.get("type")
    payload = entry.get(kind.payload, entry.get(str(entry_type)))
    key = payload.get("_key") if isinstance(payload, dict) else None
    subject = f"entry {index} (`_key` {key})" if isinstance(key, str) else f"entry {index}"
    if entry_type != kind.type:
        where = t.KIND_BY_TYPE.get(str(entry_type))
        message = f"unknown component type `{entry_type}`."
        if where is not None:
            message = f"is a `{entry_type}`, which belongs in {where.file}."
        issues.add(kind.file, subject, message, f"This file holds `{kind.type}` entries.")
        return
    if not isinstance(payload, dict) or not isinstance(key, str) or not key:
        issues.add(kind.file, subject, f"needs a `{kind.payload}` object with a `_key`.")
        return
    entries = into.entries[kind.type]
    if payload.get("definition_id") != key:
        issues.add(
            kind.file,
            subject,
            f"`_key` `{key}` differs from `definition_id` `{payload.get('definition_id')}`.",
            "syncer keeps ids as they are, so the two must be equal.",
        )
    elif key in entries:
        issues.add(kind.file, subject, f"`_key` `{key}` appears twice in the file.")
    else:
        entries[key] = payload
        extra = {name: entry[name] for name in entry if name not in ("type", kind.payload)}
        if extra:
            into.envelopes[(kind.type, key)] = extra


def _carry_folder(folder: str, data: Any, into: Unwrapped, issues: Issues) -> None:
    """A component file syncer does not model: kept whole, minus timestamps and editor ids."""
    file = f"{folder}/{folder}.json"
    if not FOLDER_PATTERN.match(folder):
        issues.add(
            file,
            "",
            "is a component file syncer does not model, and its folder name cannot be carried"
            f" under `spec.{VENDOR_COMPONENTS}` (lower-case letters, digits and `_`, at most 64).",
        )
        return
    if not isinstance(data, list):
        issues.add(file, "", "must hold a JSON array of components.")
        return
    seen: set[str] = set()
    for index, entry in enumerate(data):
        key = _entry_key(entry)
        if key is None:
            continue
        if not _ID.match(key):
            issues.add(
                file, f"entry {index}", "has an unsafe `_key`.", "Ids use A-Z a-z 0-9 _ - . :"
            )
        elif key in seen:
            issues.add(file, f"entry {index} (`_key` {key})", "`_key` appears twice in the file.")
        seen.add(key)
    into.carried[folder] = [_without_volatile(entry) for entry in data]


def _entry_key(entry: Any) -> str | None:
    """The ``_key`` of an entry shaped like Awell's (``{"type": T, T: {"_key": ...}}``), if it has one."""
    if not isinstance(entry, dict):
        return None
    payload = entry.get(str(entry.get("type")))
    if isinstance(payload, dict) and "_key" in payload:
        return str(payload["_key"])
    return None


def _without_volatile(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    return {
        name: (
            {k: v for k, v in value.items() if k not in t.VOLATILE}
            if isinstance(value, dict) and name == entry.get("type")
            else value
        )
        for name, value in entry.items()
    }
