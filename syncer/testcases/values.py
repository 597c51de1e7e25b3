"""Awell's data point value types, and turning what a case or a calculation gives into a typed value.

A case writes answers the way Awell's test-case files do, mostly as strings (``"1"``, ``"yes"``,
``"2024-03-01"``); a calculation gives numbers; a rule's operand is a string in Awell's API. Each is
converted to the data point's value type once, here, so that operators compare like with like:

| value type | Python value | accepted input |
|---|---|---|
| ``number`` | ``float`` | a number, or a string that is one (``"7"``, ``"7.5"``, ``"-1e3"``) |
| ``boolean`` | ``bool`` | true/false, ``"true"``/``"false"``, ``"yes"``/``"no"``, ``1``/``0`` |
| ``date`` | ``datetime`` (UTC) | ``"2024-03-01"`` or an ISO 8601 date-time with an offset or ``Z`` |
| ``string``, ``telephone`` | ``str`` | any scalar, as text |
| ``numbers_array`` | ``tuple[float, ...]`` | a list, a JSON array in a string, or comma-separated numbers |
| ``strings_array`` | ``tuple[str, ...]`` | a list, a JSON array in a string, or one string |
| ``json`` | any JSON value | a JSON text, or the value itself |
| ``attachments_array`` | ``tuple[Any, ...]`` | a list, or a JSON array in a string |

A value that does not fit its type raises ``ValueProblem`` with a sentence saying why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class ValueProblem(ValueError):
    """A value that does not fit its value type; the message says why, in words."""


def convert(raw: Any, value_type: str) -> Any:
    """``raw`` as a value of ``value_type`` (see the module docstring); raises ``ValueProblem``."""
    converter: Callable[[Any], Any] = _CONVERTERS.get(value_type, _as_string)
    return converter(raw)


def shown(value: Any) -> str:
    """A value as a reader would write it: ``9`` rather than ``9.0``, dates as ISO, lists with commas."""
    if value is None:
        return "no value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def as_number(raw: Any) -> float:
    """A finite number from a number or a numeric string."""
    if isinstance(raw, bool):
        raise ValueProblem(f"{shown(raw)} is true/false, not a number")
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            raise ValueProblem(f'"{raw}" is not a number') from None
    else:
        raise ValueProblem(f"{_kind(raw)} is not a number")
    if not math.isfinite(number):
        raise ValueProblem(f'"{raw}" is not a finite number')
    return number


def as_boolean(raw: Any) -> bool:
    """True or false from a boolean, a yes/no or true/false string, or 1/0."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueProblem(f"{_describe(raw)} is not true or false (write true/false or yes/no)")


def as_date(raw: Any) -> datetime:
    """A UTC date-time from an ISO 8601 date (midnight) or date-time."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC)
    if not isinstance(raw, str):
        raise ValueProblem(f"{_kind(raw)} is not a date (write e.g. 2024-03-01)")
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueProblem(f'"{raw}" is not a date (write e.g. 2024-03-01)') from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _as_string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return shown(float(raw))
    raise ValueProblem(f"{_kind(raw)} is not a text")


def _as_list(raw: Any, split: bool) -> list[Any]:
    if isinstance(raw, list | tuple):
        return list(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError:
                raise ValueProblem(f'"{raw}" is not a JSON list') from None
            if isinstance(loaded, list):
                return loaded
        if split:
            return [part.strip() for part in text.split(",") if part.strip()]
        return [raw]
    return [raw]


def _numbers(raw: Any) -> tuple[float, ...]:
    return tuple(as_number(item) for item in _as_list(raw, split=True))


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(_as_string(item) for item in _as_list(raw, split=False))


def _json(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw  # a bare string is a JSON string value
    return raw


def _attachments(raw: Any) -> tuple[Any, ...]:
    return tuple(_as_list(raw, split=False))


def _kind(raw: Any) -> str:
    if isinstance(raw, dict):
        return "a mapping"
    if isinstance(raw, list | tuple):
        return "a list"
    if raw is None:
        return "an empty value"
    return f'"{raw}"'


def _describe(raw: Any) -> str:
    return (
        f'"{raw}"'
        if isinstance(raw, str)
        else _kind(raw)
        if not isinstance(raw, int | float)
        else shown(float(raw))
    )


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _as_string,
    "telephone": _as_string,
    "number": as_number,
    "boolean": as_boolean,
    "date": as_date,
    "numbers_array": _numbers,
    "strings_array": _strings,
    "json": _json,
    "attachments_array": _attachments,
}


def is_empty(value: Any) -> bool:
    """No value, an empty or blank text, or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, tuple | list | dict):
        return len(value) == 0
    return False
