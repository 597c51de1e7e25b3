"""What a simulated case produces: a timeline of events, and where each step and track ended up.

Event actions use the names of Awell's activity feed (``ACTIVATE``, ``COMPLETE``, ``DISCARDED``, ...), so
that a test case's ``validate`` entries are judged against the same words Awell uses. Subjects are
``careflow``, ``track``, ``step``, ``action``, ``data_point``, ``trigger`` and ``transition``; the last
three are syncer's own, for the reader of a timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

ACTIVATE = "ACTIVATE"
COMPLETE = "COMPLETE"
DISCARDED = "DISCARDED"
SUBMITTED = "SUBMITTED"
COMPUTED = "COMPUTED"
SEND = "SEND"
IS_WAITING_ON = "IS_WAITING_ON"
COLLECTED = "COLLECTED"
SKIPPED = "SKIPPED"
TAKEN = "TAKEN"
NOT_TAKEN = "NOT_TAKEN"
FIRED = "FIRED"
NOT_FIRED = "NOT_FIRED"
SCHEDULED = "SCHEDULED"


@dataclass(frozen=True)
class Event:
    """One thing that happened at a virtual moment, with the reason it happened.

    ``name`` is the title Awell shows (a step's or track's title, an action's title, a data point's
    key); ``key`` is the component's key where it has one; ``within`` names what holds it (the track of
    a step, the step of an action); ``reason`` says why, naming the rule and the value that decided it.
    """

    at: int
    subject: str
    action: str
    id: str
    name: str
    reason: str = ""
    key: str = ""
    within: str = ""


class Fate(Enum):
    """Where a step or a track ended up when the case stopped."""

    COMPLETED = "completed"  # activated, then completed
    ACTIVE = "active"  # activated, never completed (waiting)
    DISCARDED = "discarded"  # never activated: no way into it was taken
    NOT_REACHED = "not reached"  # never activated and never discarded


@dataclass(frozen=True)
class Waiting:
    """Something that keeps the care flow from completing, in words (``what``) and by id."""

    id: str
    what: str


@dataclass
class Run:
    """The outcome of one case: the timeline, every step's and track's fate, and what went wrong.

    ``problems`` are things syncer could not simulate faithfully (an operator it does not know, a value
    that does not fit its type); a case with problems cannot pass. ``notes`` are worth reading but do not
    decide anything (a calculation syncer cannot compute, an answer to a question the form hides).
    """

    events: list[Event] = field(default_factory=list)
    steps: dict[str, Fate] = field(default_factory=dict)
    tracks: dict[str, Fate] = field(default_factory=dict)
    completed: bool = False
    waiting: list[Waiting] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    used_activities: set[int] = field(default_factory=set)

    def of(self, component_id: str) -> list[Event]:
        """The events about one component, in order."""
        return [e for e in self.events if e.id == component_id]
