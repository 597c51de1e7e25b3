"""Every rule operator on every value type it applies to, as tables; and rules built from them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncer.testcases import clock
from syncer.testcases.graph import build
from syncer.testcases.operators import OPERATORS
from syncer.testcases.rules import judge
from syncer.testcases.values import ValueProblem, convert

from .simflows import chain, condition, flow, point, rule

DAY = clock.DAY

# (operator, value type, value as a case writes it, operand as the flow writes it, holds)
TABLE: list[tuple[str, str, Any, Any, bool]] = [
    # number
    ("is_equal_to", "number", "10", "10", True),
    ("is_equal_to", "number", 10, "10.0", True),
    ("is_equal_to", "number", "9", "10", False),
    ("is_not_equal_to", "number", "9", "10", True),
    ("is_not_equal_to", "number", "10", 10, False),
    ("is_less_than", "number", "9", "10", True),
    ("is_less_than", "number", "10", "10", False),
    ("is_less_than_or_equal_to", "number", "10", "10", True),
    ("is_less_than_or_equal_to", "number", "10.5", "10", False),
    ("is_greater_than", "number", "11", "10", True),
    ("is_greater_than", "number", "10", "10", False),
    ("is_greater_than_or_equal_to", "number", "10", "10", True),
    ("is_greater_than_or_equal_to", "number", "9.99", "10", False),
    ("is_greater_than", "number", "-1", "-2", True),
    ("is_in_range", "number", "5", ["1", "5"], True),
    ("is_in_range", "number", "1", "1,5", True),
    ("is_in_range", "number", "6", "[1, 5]", False),
    ("is_in_range", "number", "0.5", [1, 5], False),
    ("is_any_of", "number", "2", "1,2,3", True),
    ("is_any_of", "number", "4", ["1", "2", "3"], False),
    ("is_none_of", "number", "4", ["1", "2", "3"], True),
    ("is_none_of", "number", "2", "[1, 2]", False),
    ("is_empty", "number", "0", None, False),
    ("is_not_empty", "number", "0", None, True),
    # string and telephone
    ("is_equal_to", "string", "yes", "yes", True),
    ("is_equal_to", "string", "Yes", "yes", False),
    ("is_not_equal_to", "string", "Yes", "yes", True),
    ("contains", "string", "give the patient a referral", "referral", True),
    ("contains", "string", "give the patient a referral", "Referral", False),
    ("does_not_contain", "string", "no referral", "urgent", True),
    ("does_not_contain", "string", "urgent referral", "urgent", False),
    ("is_any_of", "string", "b", ["a", "b"], True),
    ("is_any_of", "string", "c", "a,b", False),
    ("is_none_of", "string", "c", ["a", "b"], True),
    ("is_empty", "string", "", None, True),
    ("is_empty", "string", "   ", None, True),
    ("is_not_empty", "string", "any string will do...", None, True),
    ("is_greater_than", "string", "12", "10", True),  # numeric text compares as a number
    ("is_equal_to", "telephone", "+32470000000", "+32470000000", True),
    ("is_not_equal_to", "telephone", "+32470000000", "+32470000001", True),
    # boolean
    ("is_true", "boolean", "yes", None, True),
    ("is_true", "boolean", "no", None, False),
    ("is_true", "boolean", True, None, True),
    ("is_not_true", "boolean", "false", None, True),
    ("is_not_true", "boolean", "1", None, False),
    ("is_equal_to", "boolean", "yes", "true", True),
    ("is_equal_to", "boolean", "no", True, False),
    ("is_not_equal_to", "boolean", "no", "true", True),
    # date (the virtual clock: 2024-01-01 at the start)
    ("is_less_than", "date", "2023-12-31", "2024-01-01", True),
    ("is_greater_than", "date", "2024-02-01T10:00:00Z", "2024-02-01", True),
    ("is_greater_than_or_equal_to", "date", "2024-02-01", "2024-02-01", True),
    ("is_equal_to", "date", "2024-02-01T10:00:00+02:00", "2024-02-01", True),
    ("is_equal_to", "date", "2024-02-01T10:00:00Z", "2024-02-01T11:00:00Z", False),
    ("is_in_range", "date", "2024-01-15", ["2024-01-01", "2024-01-31"], True),
    ("is_in_range", "date", "2024-02-15", ["2024-01-01", "2024-01-31"], False),
    ("is_today", "date", "2024-01-01T15:30:00Z", None, True),
    ("is_today", "date", "2023-12-31", None, False),
    ("is_less_than_x_days_ago", "date", "2023-12-30", "7", True),
    ("is_less_than_x_days_ago", "date", "2023-12-01", "7", False),
    ("is_less_than_x_days_ago", "date", "2024-01-05", "7", False),  # the future is not "ago"
    ("is_more_than_x_days_ago", "date", "1980-05-01", "6570", True),  # an adult: over 18 years
    ("is_more_than_x_days_ago", "date", "2023-12-30", "7", False),
    ("is_any_of", "date", "2024-01-02T08:00:00Z", ["2024-01-02", "2024-01-03"], True),
    # arrays
    ("contains", "strings_array", '["a", "b"]', "a", True),
    ("contains", "strings_array", ["a", "b"], ["a", "b"], True),
    ("contains", "strings_array", ["a"], ["a", "b"], False),
    ("does_not_contain", "strings_array", ["a"], "b", True),
    ("is_any_of", "strings_array", ["a", "x"], ["x", "y"], True),
    ("is_none_of", "strings_array", ["a"], ["x", "y"], True),
    ("is_equal_to", "strings_array", ["b", "a"], ["a", "b"], True),
    ("is_empty", "strings_array", [], None, True),
    ("contains", "numbers_array", "1, 2, 3", "2", True),
    ("contains", "numbers_array", [1, 2], 3, False),
    ("is_any_of", "numbers_array", [1, 2], "2,9", True),
    ("is_not_empty", "numbers_array", [0], None, True),
    # attachments and JSON
    ("has_file_uploaded", "attachments_array", [{"url": "https://x/a.pdf"}], None, True),
    ("has_file_uploaded", "attachments_array", [], None, False),
    ("has_no_file_uploaded", "attachments_array", [], None, True),
    ("is_not_empty", "json", '{"a": 1}', None, True),
    ("is_empty", "json", "[]", None, True),
    ("is_equal_to", "json", '"x"', "x", True),
]


@pytest.mark.parametrize(("name", "value_type", "value", "operand", "holds"), TABLE)
def test_operator_table(name: str, value_type: str, value: Any, operand: Any, holds: bool) -> None:
    typed = convert(value, value_type)
    assert OPERATORS[name].judge(typed, operand, value_type, 0) is holds


def test_every_awell_operator_is_in_the_table() -> None:
    """Awell's ConditionOperator enum, by canonical name: each has rows above."""
    awell = {
        "contains", "does_not_contain", "has_file_uploaded", "has_no_file_uploaded", "is_any_of",
        "is_empty", "is_equal_to", "is_greater_than", "is_greater_than_or_equal_to", "is_in_range",
        "is_less_than", "is_less_than_or_equal_to", "is_less_than_x_days_ago",
        "is_more_than_x_days_ago", "is_none_of", "is_not_empty", "is_not_equal_to", "is_not_true",
        "is_today", "is_true",
    }  # fmt: skip
    assert set(OPERATORS) == awell
    assert {row[0] for row in TABLE} == awell


HOLDS_WITHOUT_VALUE = {"is_empty", "is_not_true", "has_no_file_uploaded"}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_a_data_point_without_value_satisfies_only_emptiness(name: str) -> None:
    graph = build(
        flow(
            [chain("t", "s")],
            points=[point("score")],
            rules=[rule("r", condition("score", name, "10"))],
        )
    )
    verdict = judge(graph, "r", {}, 0)
    assert verdict.holds is (name in HOLDS_WITHOUT_VALUE)
    assert "`score` has no value" in verdict.because


def test_the_clock_moves_date_operators() -> None:
    """`is_today` and "days ago" read the virtual now: the same date is today on day 0, not on day 2."""
    today = convert("2024-01-01T09:00:00Z", "date")
    assert OPERATORS["is_today"].judge(today, None, "date", 0)
    assert not OPERATORS["is_today"].judge(today, None, "date", 2 * DAY)
    assert OPERATORS["is_more_than_x_days_ago"].judge(today, "1", "date", 2 * DAY)


@pytest.mark.parametrize(
    ("name", "value_type", "value", "operand"),
    [
        ("is_greater_than", "string", "abc", "10"),
        ("is_less_than", "number", "5", "ten"),
        ("is_in_range", "number", "5", "1"),
        ("is_today", "string", "tomorrow", None),
        ("is_less_than_x_days_ago", "date", "2024-01-01", "a week"),
    ],
)
def test_an_operand_that_cannot_mean_what_the_operator_needs_is_a_problem(
    name: str, value_type: str, value: Any, operand: Any
) -> None:
    with pytest.raises(ValueProblem):
        OPERATORS[name].judge(convert(value, value_type), operand, value_type, 0)


# -- value types ----------------------------------------------------------------------------------

VALUES: list[tuple[str, Any, Any]] = [
    ("number", "7", 7.0),
    ("number", " -1.5 ", -1.5),
    ("number", "1e3", 1000.0),
    ("number", 3, 3.0),
    ("boolean", "yes", True),
    ("boolean", "No", False),
    ("boolean", "TRUE", True),
    ("boolean", 0, False),
    ("date", "2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
    ("date", "2024-03-01T10:00:00+01:00", datetime(2024, 3, 1, 9, tzinfo=UTC)),
    ("string", 12, "12"),
    ("string", True, "true"),
    ("telephone", "+3247", "+3247"),
    ("numbers_array", "[1, 2]", (1.0, 2.0)),
    ("numbers_array", "1, 2", (1.0, 2.0)),
    ("numbers_array", 4, (4.0,)),
    ("strings_array", '["a", "b"]', ("a", "b")),
    ("strings_array", "a, b", ("a, b",)),  # one string: commas are text
    ("json", '{"a": [1]}', {"a": [1]}),
    ("json", "plain", "plain"),
    ("attachments_array", [{"url": "u"}], ({"url": "u"},)),
]


@pytest.mark.parametrize(("value_type", "raw", "typed"), VALUES)
def test_value_types(value_type: str, raw: Any, typed: Any) -> None:
    assert convert(raw, value_type) == typed


@pytest.mark.parametrize(
    ("value_type", "raw", "says"),
    [
        ("number", "ten", '"ten" is not a number'),
        ("number", True, "true/false, not a number"),
        ("number", "nan", "not a finite number"),
        ("boolean", "maybe", "not true or false"),
        ("date", "01/02/2024", "is not a date"),
        ("date", 20240101, "is not a date"),
        ("numbers_array", "[1, x]", "not a JSON list"),
        ("string", {"a": 1}, "a mapping is not a text"),
    ],
)
def test_a_value_that_does_not_fit_its_type_says_why(value_type: str, raw: Any, says: str) -> None:
    with pytest.raises(ValueProblem, match=says):
        convert(raw, value_type)


# -- rules ----------------------------------------------------------------------------------------


def _graph() -> Any:
    return build(
        flow(
            [chain("t", "s")],
            points=[point("systolic"), point("diastolic"), point("red_flag", "boolean"), point("limit")],
            rules=[
                rule("urgent", condition("systolic", "is_greater_than_or_equal_to", "180"),
                     condition("diastolic", "is_greater_than_or_equal_to", "120"),
                     condition("red_flag", "is_true"), either=True),
                rule("both", condition("systolic", "is_less_than", "140"), condition("diastolic", "is_less_than", "90")),
                rule("empty"),
                rule("above_limit", condition("systolic", "is_greater_than", "limit", kind="data_point")),
                rule("odd", condition("systolic", "is_bigger_than", "1")),
            ],
        )
    )  # fmt: skip


def test_an_or_rule_names_the_conditions_that_held() -> None:
    verdict = judge(_graph(), "urgent", {"systolic": 150.0, "diastolic": 95.0, "red_flag": True}, 0)
    assert verdict.holds
    assert verdict.because == "rule `urgent` holds: `red_flag` is true"


def test_an_and_rule_names_the_conditions_that_failed() -> None:
    verdict = judge(_graph(), "both", {"systolic": 150.0, "diastolic": 85.0}, 0)
    assert not verdict.holds
    assert verdict.because == "rule `both` does not hold: `systolic` is 150, not less than 140"


def test_a_rule_without_conditions_always_holds() -> None:
    assert judge(_graph(), "empty", {}, 0).holds


def test_a_data_point_operand_compares_with_the_other_data_point() -> None:
    graph = _graph()
    assert judge(graph, "above_limit", {"systolic": 150.0, "limit": 140.0}, 0).holds
    verdict = judge(graph, "above_limit", {"systolic": 150.0}, 0)
    assert not verdict.holds and "`limit` (no value) has no value" in verdict.because


def test_an_unknown_operator_is_a_problem_not_a_crash() -> None:
    verdict = judge(_graph(), "odd", {"systolic": 150.0}, 0)
    assert not verdict.holds
    assert "operator `is_bigger_than`" in verdict.problems[0]
    assert judge(_graph(), "missing", {}, 0).problems == (
        "rule `missing` does not exist in the flow",
    )


def test_every_value_type_has_its_own_conversion() -> None:
    """The one list of value types (``syncer.model``) is the one the simulator converts by."""
    from syncer.model import VALUE_TYPES
    from syncer.testcases.values import _CONVERTERS

    assert set(_CONVERTERS) == set(VALUE_TYPES)
