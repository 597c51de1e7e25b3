"""The JSON Schema of test-case files (``schemas/careflow-tests.v1.schema.json``), in the user's words.

The sentences are the ones every syncer file gets (``syncer.validate.schema``: never a value that may be
a secret, "Did you mean ...?" for a misspelt field or value); this module only names the places the
way a reader of a test-case file counts them ("case 2, activity 3"). The meaning checks against the
flow are in ``syncer.testcases.checks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..yamlio import JsonPath

if TYPE_CHECKING:
    from ..validate.schema import Finding

_PLACES = {
    "cases": "case",
    "activities": "activity",
    "validate": "validate entry",
    "baseline_datapoints": "baseline data point",
    "questions": "answer",
    "data_points": "data point",
}


def findings(data: Any) -> list[Finding]:
    """Every violation of the test-case schema, in document order, each described once (none,
    without the Python validator, when the compiled check calls the file valid)."""
    from ..validate.schema import schema_findings  # here: syncer.validate imports this package

    return schema_findings(data, "tests", where)


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
