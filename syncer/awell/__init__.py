"""Awell Studio Source Control export → canonical care-flow document. Pure: data in, data out.

An export is one JSON array per component type (``<folder>/<folder>.json``), each entry
``{"type": T, T: {...}}``, components referring to each other by ``definition_id``. ``to_canonical`` turns
the parsed arrays into the document of ``docs/flow-format.md``:

- every id is kept as it is (``_key`` must equal ``definition_id`` and becomes ``id``);
- steps are nested in their track, actions in their step (in ``action_definition_ids`` order), transitions
  in the track of their origin, questions in their form (in ``question_definition_ids`` order);
- canvas coordinates move to ``layout``; timestamps and editor ids are dropped (SPEC 3);
- an obfuscated (encrypted) extension setting or constant loses its value and becomes ``concealed: true``,
  and no string that looks encrypted may reach the document at all;
- anything not understood (a file, a type, a field, a reference) is an error naming the file, the entry's
  ``_key`` and the field — the importer never drops data silently.

The component graph (tracks, steps, actions, transitions, triggers, forms) is built by
``syncer.awell_import``; the reverse direction is ``syncer.awell_export``; the field tables both directions
read are in ``syncer.awell_tables``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..canonical import canonicalize
from ..errors import UsageError
from ..model import API_VERSION, CONSTANT_KEY_PATTERN, FLOW_KEY_PATTERN, FLOW_KIND
from . import tables as t
from .inbound import UNKNOWN_HINT, Entries, Importer, Issues


@dataclass
class ImportResult:
    """A converted flow: the canonical document, what was read, and which values were dropped."""

    document: dict[str, Any]
    counts: dict[str, int]  # entries read per component file, in export order
    concealed: list[str]  # "settings.extensions.elation.password (Password)", never a value


def slug(title: str) -> str:
    """A flow key from a title: ASCII lowercase, every other run of characters a dash, at most 63."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return text[:63].rstrip("-")


def constant_key(label: str, taken: set[str]) -> str:
    """An UPPER_SNAKE constant key from a label, unique among ``taken`` (which it joins)."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Z0-9]+", "_", ascii_text.upper()).strip("_") or "CONSTANT"
    if not CONSTANT_KEY_PATTERN.match(base):  # starts with a digit
        base = f"C_{base}"
    key, suffix = base, 2
    while key in taken:
        key, suffix = f"{base}_{suffix}", suffix + 1
    taken.add(key)
    return key


def find_encrypted(value: Any, path: str = "") -> str | None:
    """The path of the first string (or mapping key) that holds an Awell-encrypted value, if any."""
    if isinstance(value, str):
        return path or "(document)" if t.ENCRYPTED_PREFIX in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found = child if t.ENCRYPTED_PREFIX in str(key) else find_encrypted(item, child)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            name = (
                item["id"] if isinstance(item, dict) and isinstance(item.get("id"), str) else index
            )
            found = find_encrypted(item, f"{path}[{name}]")
            if found:
                return found
    return None


def to_canonical(
    components: Mapping[str, Any], *, key: str | None = None, source: str = ""
) -> ImportResult:
    """Convert parsed export files (folder name → JSON array) into a canonical care-flow document.

    ``source`` prefixes file names in error messages. Raises ``ValidationError`` listing every problem,
    or ``UsageError`` when no valid flow key is given or can be derived from the title.
    """
    issues = Issues(source)
    entries = _unwrap(components, issues)
    issues.raise_if_any()  # a broken file structure makes every later message noise
    importer = Importer(entries, issues)
    pathway = importer.flat(
        t.PATHWAY, importer.pathway_id, entries[t.PATHWAY.type][importer.pathway_id]
    )
    title = pathway.get("title")
    title = title if isinstance(title, str) else ""
    metadata = {
        "definition_id": importer.pathway_id,
        "key": _flow_key(key, title),
        "title": title,
        "description": pathway.get("description", ""),
    }
    concealed: list[str] = []
    spec: dict[str, Any] = {"team_id": pathway["team_id"]} if "team_id" in pathway else {}
    spec["settings"] = _settings(importer, concealed)
    for kind, name in t.TOP_LEVEL_LISTS:
        spec[name] = [importer.flat(kind, k, p) for k, p in entries[kind.type].items()]
    spec["tracks"] = importer.tracks()
    spec["triggers"] = importer.triggers()
    spec["forms"] = importer.forms()
    spec["extension_webhooks"] = importer.webhooks()
    issues.raise_if_any()
    document = {"apiVersion": API_VERSION, "kind": FLOW_KIND, "metadata": metadata, "spec": spec}
    document["layout"] = importer.layout
    _refuse_encrypted(document, issues)
    counts = {kind.folder: len(entries[kind.type]) for kind in t.KINDS}
    return ImportResult(canonicalize(document), counts, concealed)


def _refuse_encrypted(document: dict[str, Any], issues: Issues) -> None:
    """The last guard: an encrypted string that was not marked obfuscated is still a secret."""
    found = find_encrypted(document)
    if found:
        issues.add(
            "",
            "",
            f"field `{found}` holds an encrypted Awell value; it is not written anywhere.",
            "It is not marked obfuscated in the export; mark it obfuscated in Awell Studio, export again.",
        )
        issues.raise_if_any()


def _unwrap(components: Mapping[str, Any], issues: Issues) -> dict[str, Entries]:
    """Check each file's entries and index them by ``_key``, per component type."""
    entries: dict[str, Entries] = {kind.type: {} for kind in t.KINDS}
    for folder, data in components.items():
        kind = t.KIND_BY_FOLDER.get(folder)
        if kind is None:
            known = ", ".join(k.folder for k in t.KINDS)
            issues.add(f"{folder}/{folder}.json", "", "unknown component file.", f"Known: {known}.")
        elif not isinstance(data, list):
            issues.add(kind.file, "", "must hold a JSON array of components.")
        else:
            for index, entry in enumerate(data):
                _unwrap_entry(kind, index, entry, entries[kind.type], issues)
    for folder in t.REQUIRED_FOLDERS:
        if len(entries[t.KIND_BY_FOLDER[folder].type]) != 1:
            count = len(entries[t.KIND_BY_FOLDER[folder].type])
            issues.add(f"{folder}/{folder}.json", "", f"must hold exactly one entry, not {count}.")
    return entries


def _unwrap_entry(
    kind: t.ComponentTable, index: int, entry: Any, into: Entries, issues: Issues
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
    for extra in sorted(set(entry) - {"type", kind.payload}):
        issues.add(kind.file, subject, f"unknown field `{extra}` next to `type`.", UNKNOWN_HINT)
    if not isinstance(payload, dict) or not isinstance(key, str) or not key:
        issues.add(kind.file, subject, f"needs a `{kind.payload}` object with a `_key`.")
        return
    if payload.get("definition_id") != key:
        issues.add(
            kind.file,
            subject,
            f"`_key` `{key}` differs from `definition_id` `{payload.get('definition_id')}`.",
            "syncer keeps ids as they are, so the two must be equal.",
        )
    elif key in into:
        issues.add(kind.file, subject, f"`_key` `{key}` appears twice in the file.")
    else:
        into[key] = payload


# --- settings: reminders, extension settings, constants -----------------------------------------------


def _settings(importer: Importer, concealed: list[str]) -> dict[str, Any]:
    key, payload = next(iter(importer.entries[t.SETTINGS.type].items()))
    issues = importer.issues
    if key != importer.pathway_id:
        issues.component(
            t.SETTINGS, key, f"belongs to care flow `{key}`, not `{importer.pathway_id}`."
        )
    settings = importer.flat(t.SETTINGS, key, payload)
    del settings["id"]  # the settings are the flow's own: their id is the definition id
    if "plugins" in payload:
        settings["extensions"] = _extensions(issues, key, payload["plugins"], concealed)
    if "constants" in payload:
        settings["constants"] = _constants(issues, key, payload["constants"], concealed)
    return settings


def _extensions(issues: Issues, key: str, plugins: Any, concealed: list[str]) -> dict[str, Any]:
    if not isinstance(plugins, dict):
        issues.component(t.SETTINGS, key, "field `plugins` must be an object.")
        return {}
    result: dict[str, Any] = {}
    for extension, items in plugins.items():
        if not isinstance(items, dict):
            issues.component(t.SETTINGS, key, f"field `plugins.{extension}` must be an object.")
            continue
        result[extension] = {}
        for name, raw in items.items():
            where = f"plugins.{extension}.{name}"
            item = _value_item(issues, key, where, raw, t.SETTING_FIELDS)
            if item.get("concealed"):
                label = item.get("label", name)
                concealed.append(f"settings.extensions.{extension}.{name} ({label})")
            result[extension][name] = item
    return result


def _constants(
    issues: Issues, key: str, constants: Any, concealed: list[str]
) -> list[dict[str, Any]]:
    if not isinstance(constants, list):
        issues.component(t.SETTINGS, key, "field `constants` must be an array.")
        return []
    items = [
        _value_item(issues, key, f"constants[{index}]", raw, t.CONSTANT_FIELDS)
        for index, raw in enumerate(constants)
    ]
    for index, item in enumerate(items):
        if not isinstance(item.get("id"), str):
            issues.component(t.SETTINGS, key, f"field `constants[{index}]` has no `id`.")
    # Keys are derived in id order, the order of the canonical list, so that importing an export of
    # the imported file derives the same keys even when two labels collide.
    taken: set[str] = set()
    result = []
    for item in sorted(items, key=lambda c: str(c.get("id"))):
        label = str(item.get("label", ""))
        constant = {"id": item.get("id"), "key": constant_key(label, taken), **item}
        if constant.get("concealed"):
            concealed.append(f"settings.constants.{constant['key']} ({label})")
        result.append(constant)
    return result


def _value_item(
    issues: Issues, key: str, where: str, item: Any, fields: frozenset[str]
) -> dict[str, Any]:
    """An extension setting or constant: ``obfuscated`` becomes ``concealed`` without a value."""
    if not isinstance(item, dict):
        issues.component(t.SETTINGS, key, f"field `{where}` must be an object.")
        return {}
    for name in item:
        if name not in fields:
            issues.component(t.SETTINGS, key, f"unknown field `{where}.{name}`.", UNKNOWN_HINT)
    obfuscated = item.get("obfuscated", False)
    if not isinstance(obfuscated, bool):
        issues.component(t.SETTINGS, key, f"field `{where}.obfuscated` must be true or false.")
    result = {name: item[name] for name in ("id", "label") if name in item}
    if obfuscated is True:  # the encrypted value stays behind: it is set per environment
        result["concealed"] = True
    elif "value" in item:
        result["value"] = item["value"]
    return result


def _flow_key(key: str | None, title: str) -> str:
    if key is not None:
        if not FLOW_KEY_PATTERN.match(key):
            raise UsageError(
                f"--key `{key}` is not a valid flow key: use lowercase letters, digits and dashes,"
                " starting with a letter or digit, at most 63 characters."
            )
        return key
    derived = slug(title)
    if not FLOW_KEY_PATTERN.match(derived):
        raise UsageError(
            f"the pathway title `{title}` gives no usable flow key; pass one with --key"
            " (lowercase letters, digits and dashes)."
        )
    return derived
