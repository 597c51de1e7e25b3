"""JSON Schema violations of a flow or environment document, in the user's words.

Whether a document is valid is decided by the compiled validator (``compiled``, jsonschema-rs); only a
document it does not call valid is walked by the Python validator (jsonschema, imported then and only
then), whose errors carry what the messages need.

Schema messages are written here rather than taken from jsonschema, for two reasons: they should speak the
user's language ("unknown field `titel`. Did you mean `title`?"), and they must never echo a value, because
the value in the wrong place may be a secret (a literal under ``secrets:``, a ``value`` of a concealed
constant).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from ..model import ID_PATTERN, ID_RULE
from ..yamlio import JsonPath
from . import compiled
from .compiled import SCHEMA_FILES, SchemaKind

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema import ValidationError as SchemaError

__all__ = [
    "FLOW_KEY_HINT",
    "SCHEMA_FILES",
    "Finding",
    "SchemaKind",
    "schema_findings",
    "schema_problems",
]

Where = Callable[[JsonPath], str]  # a place in the file, in the reader's words

_SLUG = "^[a-z0-9][a-z0-9-]{0,62}$"
_TYPE_WORDS = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty (null)",
}
_PATTERN_HINTS = {
    _SLUG: "Use lower-case letters, digits and `-` (at most 63), e.g. `depression-screening`.",
    "^[A-Z][A-Z0-9_]*$": "Use UPPER_SNAKE, e.g. `EHR_BASE_URL`.",
    "^[A-Z_][A-Z0-9_]*$": "Name an environment variable in UPPER_SNAKE, e.g. `PROD_EU_EHR_API_KEY`.",
    ID_PATTERN: f"Ids use {ID_RULE} characters.",
    "^(?=[0-9])([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$": "Write a duration such as 11h, 30m, 90s or 1h30m.",
    "^https?://[^\\s]+$": "Write the tenant API base URL, e.g. `https://tenant.example.org`.",
}
_MAYBE_SECRET = frozenset({"api_key_env", "from_env", "url"})
FLOW_KEY_HINT = _PATTERN_HINTS[_SLUG]


@dataclass(frozen=True)
class Finding:
    """One schema violation: where, what, what to do; ``structural`` when the document's shape is
    wrong, so that the meaning checks would only add noise."""

    path: JsonPath
    message: str
    hint: str | None = None
    structural: bool = False
    unknown: bool = False  # a field the schema does not know (``path`` ends with its name)


@cache
def _validator(kind: SchemaKind) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # slow to import: only for a document to describe

    return Draft202012Validator(json.loads(compiled.schema_text(kind)))


def _python_validator(schema: dict[str, Any]) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def schema_problems(data: Any, kind: SchemaKind) -> list[tuple[tuple[str | int, ...], str]]:
    """Every JSON Schema violation of ``data`` as ``(path, message)``, in document order."""
    return [
        (f.path, f"{f.message} {f.hint}" if f.hint else f.message)
        for f in schema_findings(data, kind)
    ]


def schema_findings(data: Any, kind: SchemaKind, where: Where | None = None) -> list[Finding]:
    """Every JSON Schema violation of ``data``, in document order, each described once; none, without
    the Python validator, when the compiled one calls the document valid. ``where`` names a place the
    way the reader of this kind of file counts (default: a dotted path such as ```spec.tracks[0]```)."""
    verdict = compiled.is_valid(data, kind)
    if verdict:
        return []
    found = full_schema_findings(data, kind, where)
    if not found and verdict is False:
        return _undescribed(data, kind, where or _where)
    return found


def full_schema_findings(data: Any, kind: SchemaKind, where: Where | None = None) -> list[Finding]:
    """``schema_findings`` by the Python validator alone (the reference the compiled check is held to)."""
    name = where or _where
    errors = sorted(
        _validator(kind).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
    )
    found: dict[tuple[JsonPath, str], Finding] = {}
    for error in errors:
        for finding in _describe(error, name):
            found.setdefault((finding.path, finding.message), finding)
    if errors and not found:  # never valid because no sentence fits: say where, at least
        for error in errors:
            path = tuple(error.absolute_path)
            message = f"{name(path)} is not valid ({error.validator})."
            found.setdefault((path, message), Finding(path, message, structural=True))
    return list(found.values())


def _undescribed(data: Any, kind: SchemaKind, where: Where) -> list[Finding]:
    """The compiled validator refuses what the Python one accepts (the differential tests look for any
    such case): refuse it too, at the places the compiled validator names, never echoing a value."""
    findings = []
    for path in compiled.error_paths(data, kind) or [()]:
        message = f"{where(path)} is not valid here (refused by the compiled schema check only)."
        hint = "Compare it with the schema; please report this case to the syncer maintainers."
        findings.append(Finding(path, message, hint, structural=True))
    return findings


def unknown_fields(data: Any, kind: SchemaKind) -> list[JsonPath]:
    """The path of every field of ``data`` the schema does not know, wherever it is (each path ends with
    the field's name): what the Awell importer carries under ``vendor_fields``."""
    return [f.path for f in schema_findings(data, kind) if f.unknown]


def _where(path: JsonPath) -> str:
    text = "".join(f"[{e}]" if isinstance(e, int) else f".{e}" for e in path).lstrip(".")
    return f"`{text}`" if text else "the document"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    names = {dict: "a mapping", list: "a list", str: "a string", type(None): "empty (null)"}
    return names.get(type(value), type(value).__name__)


def quoted(value: Any) -> str:
    """A value in backticks, cut at 60 characters; not for anything that may be a secret."""
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _describe(error: SchemaError, where: Where) -> list[Finding]:
    path, validator = tuple(error.absolute_path), str(error.validator)
    handler = _HANDLERS.get(validator)
    if handler is not None:
        return handler(error, path, where)
    if validator in ("minLength", "maxLength", "minimum", "maximum", "uniqueItems", "minItems"):
        return [Finding(path, f"{where(path)} {_LIMITS[validator].format(error.validator_value)}")]
    return [Finding(path, f"{where(path)} is not valid ({validator}).", structural=True)]


_LIMITS = {
    "minLength": "must not be shorter than {} character(s).",
    "maxLength": "must not be longer than {} characters.",
    "minimum": "must be at least {}.",
    "maximum": "must be at most {}.",
    "uniqueItems": "lists the same item twice; each may appear once.",
    "minItems": "must have at least {} item(s).",
}


def _required(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    findings = []
    for name in error.validator_value:
        if name not in instance:
            description = str(properties.get(name, {}).get("description", "")).rstrip(".")
            hint = (
                f"Add `{name}` ({description[:1].lower()}{description[1:]})."
                if description
                else None
            )
            findings.append(Finding(path, f"{where(path)} is missing `{name}`.", hint))
    return findings


def _unknown_fields(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    if error.validator_value is not False or not isinstance(error.instance, dict):
        return []
    findings = _fields_outside(
        _allowed_properties(error.schema, error.instance), error, path, where
    )
    if not findings and not _branches_applying(error.schema, error.instance)[1]:
        # No branch applies (a type syncer does not model): only the common fields are known.
        common = set(error.schema.get("properties", {}))
        carried = "Keep the fields of a type syncer does not model under `vendor_fields`."
        findings = _fields_outside(
            common, error, path, where, carried if "vendor_fields" in common else None
        )
    return findings


def _fields_outside(
    allowed: set[str], error: SchemaError, path: JsonPath, where: Where, hint: str | None = None
) -> list[Finding]:
    findings = []
    for name in error.instance:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), sorted(allowed), n=1, cutoff=0.6)
            said = hint or (
                f"Did you mean `{close[0]}`?"
                if close
                else f"Allowed here: {', '.join(sorted(allowed))}."
            )
            findings.append(
                Finding(
                    (*path, name), f"unknown field `{name}` in {where(path)}.", said, unknown=True
                )
            )
    return findings


def _allowed_properties(schema: dict[str, Any], instance: dict[str, Any]) -> set[str]:
    """Properties the schema knows for this instance, including those of ``if``/``then`` branches that apply
    (all of them when none applies, so that a wrong ``type`` is reported once, not as many unknown fields)."""
    allowed = set(schema.get("properties", {}))
    branches, matching = _branches_applying(schema, instance)
    for branch in matching or branches:
        allowed |= set(branch["then"].get("properties", {}))
    return allowed


def _branches_applying(
    schema: dict[str, Any], instance: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``if``/``then`` branches of ``schema``, and those whose ``if`` the instance meets."""
    branches = [b for b in schema.get("allOf", []) if "if" in b and "then" in b]
    return branches, [b for b in branches if _python_validator(b["if"]).is_valid(instance)]


def _not(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    if error.validator_value == {"required": ["value"]}:
        return [
            Finding(
                (*path, "value"),
                f"{where(path)} is `concealed: true`, so it must not have a `value` in the file.",
                "Remove `value:`; secrets never go into Git. An environment gives it under `secrets:` "
                "as `{from_env: VARIABLE}`.",
            )
        ]
    return [Finding(path, f"{where(path)} is not valid here.")]


def _type(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "from_env" in schema.get("properties", {}):
        return [
            Finding(
                path,
                f"secret {where(path[-1:])} must be `{{from_env: VARIABLE}}`, not a literal value.",
                "A secret is never written in this file: put it in an environment variable and name that "
                "variable with from_env.",
            )
        ]
    expected = error.validator_value
    words = " or ".join(
        _TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
    )
    message = f"{where(path)} must be {words}, not {_kind_of(error.instance)}."
    return [Finding(path, message, schema.get("description"), structural=True)]


def _enum(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    options = [str(o) for o in error.validator_value]
    shown = quoted(error.instance) if isinstance(error.instance, str) else _kind_of(error.instance)
    close = difflib.get_close_matches(str(error.instance), options, n=1, cutoff=0.5)
    hint = f"Did you mean `{close[0]}`?" if close else None
    if len(options) <= _OPTIONS_LISTED:
        message = f"{where(path)} is {shown}, which is not one of: {', '.join(options)}."
    else:  # a long list would bury the sentence: name the closest, or list them in the hint
        message = f"{where(path)} is {shown}, which is not valid here."
        hint = hint or f"Use one of: {', '.join(options)}."
    return [Finding(path, message, hint)]


_OPTIONS_LISTED = 8


def _const(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    hint = "Leave `concealed` out for a visible value." if path[-1:] == ("concealed",) else None
    return [Finding(path, f"{where(path)} must be {quoted(error.validator_value)}.", hint)]


def _pattern(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    hint = _PATTERN_HINTS.get(
        str(error.validator_value), f"It must match `{error.validator_value}`."
    )
    if "propertyNames" in error.absolute_schema_path:
        name = str(error.instance)
        return [
            Finding((*path, name), f"{quoted(name)} is not a valid name in {where(path)}.", hint)
        ]
    if (
        path[-1:] and path[-1] in _MAYBE_SECRET
    ):  # a pasted key or a URL with a password: never repeat it
        return [Finding(path, f"{where(path)} is not valid.", hint)]
    return [Finding(path, f"{where(path)} is {quoted(error.instance)}, which is not valid.", hint)]


def _one_of(error: SchemaError, path: JsonPath, where: Where) -> list[Finding]:
    """Descend into the one branch of the instance's type, if there is exactly one; else describe."""
    branches = error.validator_value
    if branches and all(set(b) == {"required"} for b in branches):  # one of these fields
        names = " or ".join(f"`{name}`" for b in branches for name in b["required"])
        return [Finding(path, f"{where(path)} needs {names}.", structural=True)]
    fitting = [i for i, b in enumerate(branches) if _type_fits(b, error.instance)]
    if len(fitting) == 1 and branches[fitting[0]].get("type") in ("object", "array"):
        inner = [c for c in error.context or () if c.relative_schema_path[0] == fitting[0]]
        return [f for c in inner for f in _describe(c, where)]
    description = (error.schema.get("description") or "").rstrip(".")
    what = f": {description[0].lower()}{description[1:]}" if description else ""
    return [Finding(path, f"{where(path)} is not valid{what}.", structural=True)]


def _type_fits(branch: dict[str, Any], instance: Any) -> bool:
    kind = branch.get("type")
    if kind is None:
        return "const" in branch and type(branch["const"]) is type(instance)
    return bool(_python_validator({"type": kind}).is_valid(instance))


_HANDLERS = {
    "required": _required,
    "additionalProperties": _unknown_fields,
    "unevaluatedProperties": _unknown_fields,
    "not": _not,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "oneOf": _one_of,
    "anyOf": _one_of,
}
