"""Validation of flow and environment files: JSON Schema (jsonschema) plus meaning checks.

(Interface stub; the full module is being written.)
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from jsonschema import Draft202012Validator

Kind = Literal["careflow", "environment"]
SCHEMA_FILES = {"careflow": "careflow.v1.schema.json", "environment": "environment.v1.schema.json"}


@cache
def _validator(kind: Kind) -> Draft202012Validator:
    text = resources.files("syncer.schemas").joinpath(SCHEMA_FILES[kind]).read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def schema_problems(data: Any, kind: Kind) -> list[tuple[tuple[str | int, ...], str]]:
    """Every JSON Schema violation of ``data`` as ``(path, message)``, in document order."""
    errors = sorted(_validator(kind).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [(tuple(e.absolute_path), e.message) for e in errors]
