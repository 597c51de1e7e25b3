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
- a field, an entry field or a component file syncer does not model is carried verbatim under
  ``vendor_fields``, ``vendor_entry_fields`` or ``spec.vendor_components`` (``vendor``): nothing is
  refused or dropped for being unknown. What cannot be placed (a reference to a parent that does not
  exist, an id given twice, a ``_key`` that differs from its ``definition_id``) is an error naming the
  file, the entry's ``_key`` and the field.

Entries are checked and indexed in ``entries``; the component graph (tracks, steps, actions, transitions,
triggers, forms) is built by ``inbound``; the reverse direction is ``outbound``; the field tables both
directions read are in ``tables``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import model, validate, yamlio
from ..canonical import canonicalize, plain_copy
from ..errors import Problem, UsageError, ValidationError
from ..model import (
    API_VERSION,
    CONSTANT_KEY_PATTERN,
    FLOW_KEY_PATTERN,
    FLOW_KIND,
    VENDOR_COMPONENTS,
    VENDOR_ENTRY_FIELDS,
    VENDOR_FIELDS,
)
from . import tables as t
from . import vendor
from .entries import unwrap
from .inbound import Importer, Issues
from .places import awell_place


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


@dataclass
class FlowFile:
    """An imported flow as the file ``flows/<key>/flow.yaml`` will hold it, checked."""

    relative: str  # flows/<key>/flow.yaml
    text: str
    warnings: list[Problem]  # drafts are drafts: an unreachable step, an empty track (SPEC 3)


_UNREPRESENTABLE = (
    "syncer cannot keep this value as the export has it, so nothing was written. If the export is"
    " from a newer Awell Studio, please report it with the file."
)


def flow_file(result: ImportResult, source: str = "") -> FlowFile:
    """The text of the imported flow's file, checked exactly as ``syncer validate`` will check it.

    Import never writes what would not validate: every error raises ``ValidationError``, each naming
    the export file, the component's ``_key`` and the field (with the flow file's line as well).
    Warnings are returned: a working version is a draft.
    """
    document = result.document
    relative = f"{model.FLOWS_DIR}/{document['metadata']['key']}/flow.yaml"
    deep = yamlio.too_deep_at(document)
    if deep is not None:  # the file could not be read back (and ruamel would not even write it)
        problem = Problem(
            relative,
            f"lists and mappings are nested more than {yamlio.MAX_DEPTH} levels deep here.",
            hint=f"syncer reads at most {yamlio.MAX_DEPTH} levels; an export nests a few.",
            node=deep,
        )
        raise ValidationError([_in_export_terms(document, problem, source)])
    text = yamlio.dump(document, model.flow_file_header())
    if t.ENCRYPTED_PREFIX in text:  # unreachable by design; a last guard before the disk
        raise ValidationError([Problem(relative, "would contain an encrypted Awell value.")])
    warnings: list[Problem] = []
    errors = validate.check_rendered(
        document, text, relative, document["metadata"]["key"], warnings
    )
    if errors:
        raise ValidationError([_in_export_terms(document, error, source) for error in errors])
    return FlowFile(relative, text, warnings)


def _in_export_terms(document: dict[str, Any], problem: Problem, source: str) -> Problem:
    place = awell_place(document, problem.node) if problem.node is not None else None
    if place is None:
        return problem
    file, where = place
    path = "/".join(part for part in (source.rstrip("/"), file) if part)
    at = f"{problem.path}:{problem.line}" if problem.line is not None else problem.path
    hint = f"{problem.hint} {_UNREPRESENTABLE}" if problem.hint else _UNREPRESENTABLE
    return Problem(path, f"{where}: {problem.message} (in {at})", hint=hint)


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
    components: Mapping[str, Any],
    *,
    key: str | None = None,
    source: str = "",
    known_keys: Mapping[str, str] | None = None,
) -> ImportResult:
    """Convert parsed export files (folder name → JSON array) into a canonical care-flow document.

    ``source`` prefixes file names in error messages. Without ``key``, a flow already known by its
    definition id keeps its key (``known_keys``: definition id → key), so a renamed care flow stays in
    its folder; a new one gets a slug of its title. Raises ``ValidationError`` listing every problem,
    or ``UsageError`` when no valid flow key is given or can be derived from the title.
    """
    issues = Issues(source)
    unwrapped = unwrap(components, issues)
    issues.raise_if_any()  # a broken file structure makes every later message noise
    entries = unwrapped.entries
    importer = Importer(entries, issues, unwrapped.envelopes)
    pathway = importer.flat(
        t.PATHWAY, importer.pathway_id, entries[t.PATHWAY.type][importer.pathway_id]
    )
    title = pathway.get("title")
    title = title if isinstance(title, str) else ""
    metadata = {
        "definition_id": importer.pathway_id,
        "key": _flow_key(
            key if key is not None else (known_keys or {}).get(importer.pathway_id), title
        ),
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
    for name in (VENDOR_FIELDS, VENDOR_ENTRY_FIELDS):  # the pathway's own: the definition's
        if name in pathway:
            spec[name] = pathway[name]
    if unwrapped.carried:
        spec[VENDOR_COMPONENTS] = unwrapped.carried
    issues.raise_if_any()
    document = {"apiVersion": API_VERSION, "kind": FLOW_KIND, "metadata": metadata, "spec": spec}
    document["layout"] = importer.layout
    document = plain_copy(document)  # the moves below must not reach the caller's parsed files
    vendor.carry_unknown(document)
    concealed.extend(f"{path} (encrypted, dropped)" for path in vendor.drop_secrets(document))
    _refuse_encrypted(document, issues)
    counts = {kind.folder: len(entries[kind.type]) for kind in t.KINDS}
    counts.update({folder: len(items) for folder, items in unwrapped.carried.items()})
    return ImportResult(canonicalize(document), counts, concealed)


def _refuse_encrypted(document: dict[str, Any], issues: Issues) -> None:
    """The last guard: an encrypted string in a modelled field that was not marked obfuscated is still
    a secret (what is carried verbatim lost its encrypted values in ``vendor.drop_secrets``)."""
    found = find_encrypted(document)
    if found:
        issues.add(
            "",
            "",
            f"field `{found}` holds an encrypted Awell value; it is not written anywhere.",
            "It is not marked obfuscated in the export; mark it obfuscated in Awell Studio, export again.",
        )
        issues.raise_if_any()


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
    obfuscated = item.get("obfuscated", False)
    if not isinstance(obfuscated, bool):
        issues.component(t.SETTINGS, key, f"field `{where}.obfuscated` must be true or false.")
    result = {name: item[name] for name in ("id", "label") if name in item}
    if obfuscated is True:  # the encrypted value stays behind: it is set per environment
        result["concealed"] = True
    elif "value" in item:
        result["value"] = item["value"]
    carried = {name: item[name] for name in item if name not in fields}
    if carried:
        result[VENDOR_FIELDS] = carried
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
