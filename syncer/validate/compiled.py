"""The compiled schema check: whether a document is valid, decided by jsonschema-rs (Rust).

This is the fast path of every schema check (validate, export, import, plan of changed files, the
reference tenant's PUT). It only answers valid or not; a document it does not call valid goes to
``schema``, which runs the Python validator to word each error with its place.

Both validators read the same schema file, so the compiled check follows whatever the file says. One
keyword is given the Python validator's meaning on purpose: ``pattern`` is matched with Python's ``re``
(``re.search``, as jsonschema does), because Rust's regular expressions differ in corners (``\\s`` and the
controls U+001C..U+001F, ``$`` before a final line break) and a compiled "valid" must never be a Python
"invalid". ``tests/test_schema_compiled.py`` holds both validators to the same verdict on generated and
mutated documents.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any, Literal

SchemaKind = Literal["careflow", "environment", "tests"]
SCHEMA_FILES = {
    "careflow": "careflow.v1.schema.json",
    "environment": "environment.v1.schema.json",
    "tests": "careflow-tests.v1.schema.json",  # test-case files (syncer.testcases)
}
PATTERN_KEYWORD = "x-syncer-pattern"

# Keywords whose value is a map of names to subschemas, a subschema, or a list of subschemas: where
# ``pattern`` can appear as a keyword (anywhere else, e.g. under ``properties`` or in a ``const``, it is
# a name or data, and left alone).
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_SCHEMA_VALUES = frozenset(
    {
        "additionalProperties",
        "unevaluatedProperties",
        "propertyNames",
        "items",
        "additionalItems",
        "unevaluatedItems",
        "contains",
        "not",
        "if",
        "then",
        "else",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})


class _Pattern:
    """``pattern`` as jsonschema (Python) applies it: ``re.search`` on strings, other types pass."""

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]):
        self._search = re.compile(str(value)).search

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and self._search(instance) is None:
            raise ValueError("does not match the pattern")


def schema_text(kind: SchemaKind) -> str:
    """The packaged JSON Schema of ``kind``, as text."""
    return resources.files("syncer.schemas").joinpath(SCHEMA_FILES[kind]).read_text("utf-8")


@cache
def _validator(kind: SchemaKind) -> Any:
    # Imported here: the library's import loads ``socket`` (for remote references, which ``offline``
    # turns off), and this package is pure.
    import jsonschema_rs

    schema = _python_patterns(json.loads(schema_text(kind)))
    return jsonschema_rs.validator_for(
        schema, keywords={PATTERN_KEYWORD: _Pattern}, validate_formats=False, offline=True
    )


def is_valid(data: Any, kind: SchemaKind) -> bool | None:
    """True or False as the compiled validator decides; None when it cannot take this data (a value
    with no JSON form, such as an integer too large for it): the Python validator decides then."""
    try:
        return bool(_validator(kind).is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return None


def _python_patterns(schema: Any) -> Any:
    """A copy of ``schema`` with each ``pattern`` keyword renamed to ``PATTERN_KEYWORD``."""
    if not isinstance(schema, dict):
        return schema
    copied: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            copied[PATTERN_KEYWORD] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            copied[key] = {name: _python_patterns(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            copied[key] = [_python_patterns(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            copied[key] = _python_patterns(value)
        else:
            copied[key] = value
    return copied


def error_paths(data: Any, kind: SchemaKind) -> list[tuple[str | int, ...]]:
    """Where the compiled validator finds the document invalid (instance paths, document order)."""
    try:
        paths = {tuple(e.instance_path) for e in _validator(kind).iter_errors(data)}
    except (ValueError, TypeError, OverflowError):
        return []
    return sorted(paths, key=lambda p: [str(e) for e in p])
