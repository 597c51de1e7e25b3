"""The care-flow simulator: a canonical flow and a case in, a timeline out. Pure: no I/O, no clock.

``simulate(document, case)`` plays the case on the flow as the orchestration engine would, on a virtual
clock that starts at ``clock.VIRTUAL_START`` and jumps to each timer, and returns a ``Run``: every
event (with its virtual time and the rule and value that caused it), every step's and track's ``Fate``,
whether the care flow completed, and what it still waits for if not.

- ``engine``: the loop, tracks, steps, transitions and discarding;
- ``actions``: what each action type does, and what waits for the case;
- ``triggers``: what starts a track;
- ``rules`` and ``operators``: judging conditions, with every Awell operator on every value type;
- ``values``: Awell's value types; ``calculations``: the scores syncer computes (PHQ-9);
- ``graph``: the flow document indexed; ``case``: the case as data; ``events``: the run as data;
  ``clock``: virtual time.
"""

from __future__ import annotations

from .case import Activity, Answer, Case
from .clock import VIRTUAL_START, Delay
from .engine import simulate
from .events import Event, Fate, Run, Waiting

__all__ = [
    "VIRTUAL_START",
    "Activity",
    "Answer",
    "Case",
    "Delay",
    "Event",
    "Fate",
    "Run",
    "Waiting",
    "simulate",
]
