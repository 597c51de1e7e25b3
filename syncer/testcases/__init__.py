"""Care-flow test cases: Awell's ``validation.yaml`` format, checked, simulated offline and judged.

A flow's cases live in ``flows/<key>/tests/*.yaml`` (schema: ``schemas/careflow-tests.v1.schema.json``;
docs/test-cases.md). Two layers, imported one way:

The simulator, pure (no I/O, no clock, no network): ``simulate(flow, case)`` plays a case on a canonical
flow as the orchestration engine would, on a virtual clock that starts at ``clock.VIRTUAL_START`` and
jumps to each timer, and returns a ``Run``: every event with its virtual time and the rule and value that
caused it, every step's and track's ``Fate``, whether the care flow completed, what it waits for if not.

- ``engine``: the loop, tracks, steps and data points; ``transitions``: judging them, and discarding;
  ``actions``: what each action does and what waits for the case; ``triggers``: what starts a track;
- ``rules`` and ``operators``: judging conditions, every Awell operator on every value type; ``values``:
  Awell's value types; ``calculations``: the scores syncer computes (PHQ-9);
- ``graph``: the flow indexed; ``inputs``: the case as data; ``events``: the run as data; ``clock``:
  virtual time.

The test files, on top of it:

- ``cases``: a file read and checked into ``CaseDefinition``\\ s (``schema``, ``checks``,
  ``activities`` and ``findings`` check it);
- ``suite``: files run against their flows, and two runs compared; ``judge``: a run against its
  expectations, every failure explained; ``render`` (text, JSON) and ``markdown``;
- ``files`` (the work tree or a Git ref) and ``imported`` (an Awell export's ``validation.yaml``) read
  files; this face imports neither.
"""

from __future__ import annotations

from .cases import CaseDefinition, CaseFile, Expectation, load
from .clock import VIRTUAL_START, Delay
from .engine import simulate
from .events import Event, Fate, Run, Waiting
from .inputs import Activity, Answer, Case
from .judge import CaseResult, Verdict
from .suite import OutcomeChange, Review, SourceFile, Suite, compare, run_suite

__all__ = [
    "VIRTUAL_START",
    "Activity",
    "Answer",
    "Case",
    "CaseDefinition",
    "CaseFile",
    "CaseResult",
    "Delay",
    "Event",
    "Expectation",
    "Fate",
    "OutcomeChange",
    "Review",
    "Run",
    "SourceFile",
    "Suite",
    "Verdict",
    "Waiting",
    "compare",
    "load",
    "run_suite",
    "simulate",
]
