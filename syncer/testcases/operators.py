"""Every rule operator Awell's orchestration API knows, with a meaning for every value type. Pure.

A condition compares one data point's value with an operand. The value is already typed
(``values.convert``); the operand is converted here to what the operator needs. What each operator means:

| operator | holds when the value ... | value types |
|---|---|---|
| ``is_equal_to`` / ``is_not_equal_to`` | equals the operand converted to its type (lists: same items, any order; dates: the same day when the operand has no time) | all |
| ``is_less_than``, ``is_less_than_or_equal_to``, ``is_greater_than``, ``is_greater_than_or_equal_to`` | compares so with the operand | number (numeric text too), date |
| ``is_in_range`` | lies in ``[low, high]``, both ends included (operand: two numbers or dates) | number, date |
| ``contains`` / ``does_not_contain`` | text: has the operand as a substring; list: has the operand (every item of a list operand) | string, arrays |
| ``is_any_of`` / ``is_none_of`` | is one of the operand's items (a list value: shares an item with it) | all |
| ``is_empty`` / ``is_not_empty`` | has no value, blank text or an empty list | all |
| ``is_true`` / ``is_not_true`` | is true (a missing value is not true) | boolean (yes/no text too) |
| ``is_today`` | is a date on the virtual clock's current day | date |
| ``is_less_than_x_days_ago`` / ``is_more_than_x_days_ago`` | lies less / more than operand days before the virtual now | date |
| ``has_file_uploaded`` / ``has_no_file_uploaded`` | holds at least one attachment / none | attachments_array |

A data point that has no value satisfies only ``is_empty``, ``is_not_true`` and ``has_no_file_uploaded``:
like SQL's NULL, an unknown value is never equal, unequal, less or greater than anything. An operand that
cannot mean what the operator needs raises ``ValueProblem``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import clock
from .values import ValueProblem, as_boolean, as_date, as_number, convert, is_empty

Judge = Callable[[Any, Any, str, int], bool]
"""(value, operand, value type, virtual now in seconds) -> whether the condition holds."""


@dataclass(frozen=True)
class Operator:
    """One operator: how it reads in a sentence, whether it needs an operand, and its meaning."""

    name: str
    phrase: str
    needs_operand: bool
    holds_without_value: bool
    judge: Judge
    opposite: str = ""

    def reads(self, holds: bool) -> str:
        """The phrase when the condition holds, or its opposite when it does not."""
        return self.phrase if holds else self.opposite or f"not {self.phrase}"


def _ordered(value: Any, operand: Any, value_type: str) -> tuple[Any, Any]:
    if value_type == "date" or isinstance(value, datetime):
        return as_date(value), as_date(operand)
    return as_number(value), as_number(operand)


def _less(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    left, right = _ordered(value, operand, value_type)
    return bool(left < right)


def _less_equal(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    left, right = _ordered(value, operand, value_type)
    return bool(left <= right)


def _greater(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    left, right = _ordered(value, operand, value_type)
    return bool(left > right)


def _greater_equal(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    left, right = _ordered(value, operand, value_type)
    return bool(left >= right)


def _equal(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    if isinstance(value, tuple):
        other = convert(operand, value_type)
        return sorted(map(str, value)) == sorted(map(str, other))
    if isinstance(value, datetime):
        other = as_date(operand)
        has_time = isinstance(operand, str) and "T" in operand
        return value == other if has_time else value.date() == other.date()
    if isinstance(value, bool):
        return value is as_boolean(operand)
    if isinstance(value, float):
        return value == as_number(operand)
    return bool(value == convert(operand, value_type))


def _not_equal(value: Any, operand: Any, value_type: str, moment: int) -> bool:
    return not _equal(value, operand, value_type, moment)


def _items(operand: Any, value_type: str) -> list[Any]:
    item_type = {"numbers_array": "number", "strings_array": "string"}.get(value_type, value_type)
    if item_type in ("json", "attachments_array"):
        item_type = "string"
    raw = operand if isinstance(operand, list | tuple) else convert(operand, "strings_array")
    if isinstance(operand, str) and not operand.strip().startswith("[") and "," in operand:
        raw = [part.strip() for part in operand.split(",")]
    return [convert(item, item_type) for item in raw]


def _contains(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    if isinstance(value, tuple):
        wanted = _items(operand, value_type)
        return all(item in value for item in wanted)
    return str(convert(operand, "string")) in str(convert(value, "string"))


def _not_contains(value: Any, operand: Any, value_type: str, moment: int) -> bool:
    return not _contains(value, operand, value_type, moment)


def _any_of(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    choices = _items(operand, value_type)
    if isinstance(value, tuple):
        return any(item in choices for item in value)
    if isinstance(value, datetime):
        return any(value.date() == as_date(choice).date() for choice in choices)
    return value in choices


def _none_of(value: Any, operand: Any, value_type: str, moment: int) -> bool:
    return not _any_of(value, operand, value_type, moment)


def _in_range(value: Any, operand: Any, value_type: str, _now: int) -> bool:
    bounds = operand if isinstance(operand, list | tuple) else convert(operand, "strings_array")
    if isinstance(operand, str) and "," in operand and not operand.strip().startswith("["):
        bounds = [part.strip() for part in operand.split(",")]
    if len(bounds) != 2:
        raise ValueProblem("a range needs exactly two bounds, low and high")
    typed, low = _ordered(value, bounds[0], value_type)
    _typed, high = _ordered(value, bounds[1], value_type)
    return bool(low <= typed <= high)


def _empty(value: Any, _operand: Any, _value_type: str, _now: int) -> bool:
    return is_empty(value)


def _not_empty(value: Any, _operand: Any, _value_type: str, _now: int) -> bool:
    return not is_empty(value)


def _true(value: Any, _operand: Any, _value_type: str, _now: int) -> bool:
    try:
        return as_boolean(value)
    except ValueProblem:
        return False


def _not_true(value: Any, operand: Any, value_type: str, moment: int) -> bool:
    return not _true(value, operand, value_type, moment)


def _today(value: Any, _operand: Any, _value_type: str, moment: int) -> bool:
    return as_date(value).date() == clock.date_at(moment)


def _days_before(value: Any, moment: int) -> float:
    return (clock.moment(moment) - as_date(value)).total_seconds() / clock.DAY


def _less_days_ago(value: Any, operand: Any, _value_type: str, moment: int) -> bool:
    return 0 <= _days_before(value, moment) < as_number(operand)


def _more_days_ago(value: Any, operand: Any, _value_type: str, moment: int) -> bool:
    return _days_before(value, moment) > as_number(operand)


def _file(value: Any, _operand: Any, _value_type: str, _now: int) -> bool:
    return not is_empty(value)


def _no_file(value: Any, operand: Any, value_type: str, moment: int) -> bool:
    return not _file(value, operand, value_type, moment)


def _op(
    name: str,
    phrase: str,
    judge: Judge,
    *,
    unary: bool = False,
    empty: bool = False,
    opposite: str = "",
) -> Operator:
    return Operator(name, phrase, not unary, empty, judge, opposite)


OPERATORS: dict[str, Operator] = {
    o.name: o
    for o in (
        _op("is_equal_to", "equal to", _equal),
        _op("is_not_equal_to", "not equal to", _not_equal, opposite="equal to"),
        _op("is_less_than", "less than", _less),
        _op("is_less_than_or_equal_to", "less than or equal to", _less_equal),
        _op("is_greater_than", "greater than", _greater),
        _op("is_greater_than_or_equal_to", "greater than or equal to", _greater_equal),
        _op("is_in_range", "in the range", _in_range),
        _op("contains", "containing", _contains),
        _op("does_not_contain", "not containing", _not_contains, opposite="containing"),
        _op("is_any_of", "one of", _any_of),
        _op("is_none_of", "none of", _none_of, opposite="one of"),
        _op("is_empty", "empty", _empty, unary=True, empty=True, opposite="not empty"),
        _op("is_not_empty", "not empty", _not_empty, unary=True, opposite="empty"),
        _op("is_true", "true", _true, unary=True),
        _op("is_not_true", "not true", _not_true, unary=True, empty=True, opposite="true"),
        _op("is_today", "today", _today, unary=True),
        _op("is_less_than_x_days_ago", "less than this many days ago:", _less_days_ago),
        _op("is_more_than_x_days_ago", "more than this many days ago:", _more_days_ago),
        _op("has_file_uploaded", "holding a file", _file, unary=True),
        _op(
            "has_no_file_uploaded",
            "holding no file",
            _no_file,
            unary=True,
            empty=True,
            opposite="holding a file",
        ),
    )
}
"""Every operator of Awell's ``ConditionOperator`` enum, by its canonical (snake_case) name."""
