"""Judging a rule against the data points collected so far, and saying why in one sentence. Pure.

A rule holds when all (``and``) or any (``or``) of its conditions hold; a rule without conditions always
holds (Awell's "no conditions" rule). Every condition is judged, even after the answer is known, so that
the sentence can name each condition that decided it: "rule `h72iVMDhbTNl` does not hold:
`phq_9.PHQ9_SCORE` is 9, not greater than or equal to 10".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .graph import Graph
from .operators import OPERATORS
from .values import ValueProblem, shown

OPERAND_IS_DATA_POINT = ("data_point", "data_source")


@dataclass(frozen=True)
class Verdict:
    """Whether a rule holds, the sentence that says why, and what could not be judged."""

    holds: bool
    because: str
    problems: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Condition:
    holds: bool
    sentence: str
    problem: str | None = None


def judge(graph: Graph, rule_id: str, values: Mapping[str, Any], moment: int) -> Verdict:
    """Judge rule ``rule_id`` on ``values`` (data point id -> typed value) at virtual time ``moment``."""
    rule = graph.rules.get(rule_id)
    if rule is None:
        problem = f"rule `{rule_id}` does not exist in the flow"
        return Verdict(False, problem, (problem,))
    conditions = [c for c in rule.get("conditions") or [] if isinstance(c, dict)]
    if not conditions:
        return Verdict(True, f"rule `{rule_id}` has no conditions, so it always holds")
    judged = [_condition(graph, c, values, moment) for c in conditions]
    either = rule.get("boolean_operator") == "or"
    holds = any(c.holds for c in judged) if either else all(c.holds for c in judged)
    # Name what decided it: the holding conditions of a true `or`, the failing ones of a false `and`.
    deciding = [c for c in judged if c.holds == holds] if either == holds else judged
    verb = "holds" if holds else "does not hold"
    because = f"rule `{rule_id}` {verb}: " + "; ".join(c.sentence for c in deciding)
    problems = tuple(c.problem for c in judged if c.problem)
    return Verdict(holds, because, problems)


def _condition(
    graph: Graph, condition: dict[str, Any], values: Mapping[str, Any], moment: int
) -> _Condition:
    reference = str(condition.get("reference", ""))
    label = f"`{graph.label(reference)}`"
    name = str(condition.get("operator", ""))
    operator = OPERATORS.get(name)
    if operator is None:
        problem = (
            f"operator `{name}` (on {label}) is not one syncer knows; Awell's are: "
            + ", ".join(f"`{o}`" for o in OPERATORS)
        )
        return _Condition(False, f"{label} cannot be judged with `{name}`", problem)
    value = values.get(reference)
    operand, operand_text, missing = _operand(graph, condition.get("operand"), values)

    def reads(holds: bool) -> str:
        phrase = operator.reads(holds)
        return f"{phrase} {operand_text}".rstrip() if operator.needs_operand else phrase

    if value is None:
        holds = operator.holds_without_value
        return _Condition(holds, f"{label} has no value, so it is {reads(holds)}")
    if operator.needs_operand and (operand is None or missing):
        reason = f"{operand_text} has no value" if missing else "the condition has no operand"
        return _Condition(False, f"{label} is {shown(value)}, but {reason}")
    try:
        holds = operator.judge(value, operand, graph.value_type(reference), moment)
    except ValueProblem as exc:
        problem = f"{label} {name} {operand_text}: {exc}"
        return _Condition(False, f"{label} cannot be compared: {exc}", problem)
    said = reads(holds)
    return _Condition(
        holds, f"{label} is {shown(value)}" + ("" if said == shown(value) else f", {said}")
    )


def _operand(graph: Graph, operand: Any, values: Mapping[str, Any]) -> tuple[Any, str, bool]:
    """(the operand's value, how to name it, whether it is a data point without a value)."""
    if not isinstance(operand, dict):
        return None, "", False
    raw = operand.get("value")
    if operand.get("type") in OPERAND_IS_DATA_POINT and isinstance(raw, str):
        value = values.get(raw)
        return value, f"`{graph.label(raw)}` ({shown(value)})", value is None
    if isinstance(raw, list):
        return raw, "[" + ", ".join(str(v) for v in raw) + "]", False
    return raw, "" if raw is None else str(raw), False
