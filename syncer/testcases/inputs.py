"""What the simulated patient and care team do: the input of one case, as plain data.

This is the part of a test case the simulator reads (``syncer.testcases`` reads the file and checks it
against the flow first). Names are matched the way Awell's test runner matches them: a form by the form's
title (or key), a checklist by its action's title, an extension action by its extension and action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import Delay

FORM = "form"
CHECKLIST = "checklist"
CALCULATION = "calculation"
EXTENSION = "extension"
API_CALL = "api_call"
WEBHOOK = "webhook"
START_TRACK = "start_track"

WAITING_TYPES = (FORM, CHECKLIST)
"""Activities an action waits for: without a matching entry the action never completes."""
OUTPUT_TYPES = (CALCULATION, EXTENSION, API_CALL)
"""Activities that give the output of an action syncer cannot compute or call offline."""
CASE_TYPES = (WEBHOOK, START_TRACK)
"""Activities that happen on their own, measured from the start of the care flow."""


@dataclass(frozen=True)
class Answer:
    """A key and the value the case gives for it (a question key, an output key, a data point id)."""

    key: str
    value: Any


@dataclass(frozen=True)
class Activity:
    """One entry of a case's ``activities``.

    ``after`` delays the entry: for a form or checklist it is measured from the moment the action became
    active (a late answer); for a webhook or a started track, from the start of the care flow. ``step``
    and ``action`` narrow a form or checklist entry to one step or action when a form is used more than
    once. ``index`` is the entry's position in the case, for messages.
    """

    index: int
    type: str
    name: str
    answers: tuple[Answer, ...] = ()
    after: Delay | None = None
    step: str | None = None
    action: str | None = None
    extension: str | None = None

    @property
    def specificity(self) -> int:
        """How narrowly the entry names what it answers; the most specific matching entry wins."""
        return (self.step is not None) + (self.action is not None)


@dataclass(frozen=True)
class Case:
    """A case: its title, the data points present at the start, and the activities in order."""

    title: str
    baseline: tuple[Answer, ...] = ()
    activities: tuple[Activity, ...] = ()
