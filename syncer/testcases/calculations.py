"""The calculations syncer can compute offline, by Awell's ``calculation_definition_id``. Pure.

A calculation action names its inputs (``calculation_inputs``: input id -> data point) and writes its
outputs to data points ``<calculation id>.<output key>`` (``phq_9.PHQ9_SCORE``). A calculation that is
not in ``REGISTRY`` completes without outputs, and the timeline says so; a case can give its outputs
(an activity of type ``calculation``), which always win over what syncer computes.

To add one: write a function from the inputs (input id -> value or ``None``) to ``Outcome`` and register
it under Awell's id. The interpretation labels are syncer's words for the published bands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .values import ValueProblem, as_number


@dataclass(frozen=True)
class Outcome:
    """Outputs by output key, or the reason nothing could be computed."""

    outputs: dict[str, Any] = field(default_factory=dict)
    missing: str = ""


Calculation = Callable[[Mapping[str, Any]], Outcome]

PHQ9_ITEMS = tuple(f"PHQ9_Q{n:02d}" for n in range(1, 10))
_PHQ9_BANDS = ((4, "None-minimal"), (9, "Mild"), (14, "Moderate"), (19, "Moderately severe"))


def phq_9(inputs: Mapping[str, Any]) -> Outcome:
    """PHQ-9: the sum of the nine item answers, each 0 to 3 (total 0 to 27), and its severity band.

    Every item must be answered: a partial questionnaire has no score (as the instrument says).
    """
    missing = [item for item in PHQ9_ITEMS if inputs.get(item) is None]
    if missing:
        return Outcome(missing=f"PHQ-9 needs all nine items; no answer for {', '.join(missing)}")
    total = 0.0
    for item in PHQ9_ITEMS:
        try:
            answer = as_number(inputs[item])
        except ValueProblem as exc:
            return Outcome(missing=f"PHQ-9 item {item}: {exc}")
        if answer not in (0, 1, 2, 3):
            return Outcome(missing=f"PHQ-9 item {item} is {answer:g}; each item is 0, 1, 2 or 3")
        total += answer
    band = next((label for top, label in _PHQ9_BANDS if total <= top), "Severe")
    return Outcome({"PHQ9_SCORE": total, "PHQ9_INTERPRETATION": band})


REGISTRY: dict[str, Calculation] = {"phq_9": phq_9}
"""Awell calculation id -> the function that computes it."""


def output_id(calculation_id: str, key: str) -> str:
    """The data point id Awell gives a calculation's output."""
    return f"{calculation_id}.{key}"
