"""The JSON Schema of test-case files (``schemas/careflow-tests.v1.schema.json``), in the user's words.

Each violation becomes a sentence that names the place the way a reader counts ("case 2, activity 3"),
with a "Did you mean ...?" for a misspelt field or value. The schema is the contract editors complete
against; the meaning checks against the flow are in ``syncer.testcases.checks``.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..yamlio import JsonPath

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema import ValidationError as SchemaError

SCHEMA_FILE = "careflow-tests.v1.schema.json"
_PLACES = {
    "cases": "case",
    "activities": "activity",
    "validate": "validate entry",
    "baseline_datapoints": "baseline data point",
    "questions": "answer",
    "data_points": "data point",
}
_TYPES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
    "integer": "a whole number",
}


@dataclass(frozen=True)
class Finding:
    """One violation: where, what, and what to do."""

    path: JsonPath
    message: str
    hint: str | None = None


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # slow to import: only for a file to describe

    text = resources.files("syncer.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def findings(data: Any) -> list[Finding]:
    """Every violation of the test-case schema, in document order, each described once (none,
    without the Python validator, when the compiled check calls the file valid)."""
    from ..validate import compiled  # here: syncer.validate imports this package

    if compiled.is_valid(data, "tests"):
        return []
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    found: dict[tuple[JsonPath, str], Finding] = {}
    for error in errors:
        for finding in _describe(error):
            found.setdefault((finding.path, finding.message), finding)
    return list(found.values())


def where(path: JsonPath) -> str:
    """``("cases", 1, "activities", 2, "name")`` -> ``case 2, activity 3, `name```."""
    parts: list[str] = []
    for index, element in enumerate(path):
        if isinstance(element, int):
            continue
        following = path[index + 1] if index + 1 < len(path) else None
        if isinstance(following, int) and element in _PLACES:
            parts.append(f"{_PLACES[element]} {following + 1}")
        else:
            parts.append(f"`{element}`")
    return ", ".join(parts) or "the file"


def _describe(error: SchemaError) -> list[Finding]:
    path = tuple(error.absolute_path)
    kind = str(error.validator)
    if kind == "required":
        return _required(error, path)
    if kind == "additionalProperties":
        return _unknown(error, path)
    if kind == "enum":
        options = [str(o) for o in error.validator_value]
        close = difflib.get_close_matches(str(error.instance), options, n=1, cutoff=0.5)
        hint = f"Did you mean `{close[0]}`?" if close else f"Use one of: {', '.join(options)}."
        return [
            Finding(path, f"{where(path)} is `{error.instance}`, which is not valid here.", hint)
        ]
    if kind == "type":
        expected = error.validator_value
        words = " or ".join(
            _TYPES.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
        )
        return [Finding(path, f"{where(path)} must be {words}.", error.schema.get("description"))]
    if (
        kind in ("anyOf", "oneOf")
        and error.validator_value
        and "required" in error.validator_value[0]
    ):
        names = " or ".join(f"`{b['required'][0]}`" for b in error.validator_value)
        return [Finding(path, f"{where(path)} needs {names}.")]
    if kind == "minLength":
        return [Finding(path, f"{where(path)} must not be empty.")]
    if kind == "minimum":
        return [Finding(path, f"{where(path)} must be at least {error.validator_value}.")]
    return [Finding(path, f"{where(path)} is not valid: {error.message}.")]


def _required(error: SchemaError, path: JsonPath) -> list[Finding]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    properties = _properties(error.schema)
    result = []
    for name in error.validator_value:
        if name not in instance:
            description = str(properties.get(name, {}).get("description", "")).rstrip(".")
            hint = (
                f"Add `{name}:` ({description[:1].lower()}{description[1:]})."
                if description
                else None
            )
            result.append(Finding(path, f"{where(path)} has no `{name}`.", hint))
    return result


def _unknown(error: SchemaError, path: JsonPath) -> list[Finding]:
    if not isinstance(error.instance, dict):
        return []
    allowed = sorted(_properties(error.schema))
    result = []
    for name in error.instance:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
            hint = (
                f"Did you mean `{close[0]}`?" if close else f"Allowed here: {', '.join(allowed)}."
            )
            result.append(Finding((*path, name), f"unknown field `{name}` in {where(path)}.", hint))
    return result


def _properties(schema: Any) -> dict[str, Any]:
    found = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return found if isinstance(found, dict) else {}
