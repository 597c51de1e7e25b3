"""Judging a simulated case the way Awell's test runner does, and explaining every failure. Pure.

A ``validate`` entry passes when *some* event of its type, name and action happened (an existence check,
not an order or a count), as in Awell's runner; ``NOT_TRIGGERED`` passes when the step or track was
never activated. A case passes when every entry passes, the care flow completed (Awell's runner waits
for that, so a case that never completes can never pass there), and nothing in the flow was beyond what
syncer can simulate. Each failure says what was expected, what happened instead, and why, naming the
rule and the value that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cases import CaseDefinition, Expectation
from .clock import elapsed
from .events import Event, Fate, Run
from .graph import Graph

EXPECTED = {
    "ACTIVATE": "activated",
    "COMPLETE": "completed",
    "DISCARDED": "discarded",
    "NOT_TRIGGERED": "never activated",
}
_FATE = {
    Fate.COMPLETED: "completed",
    Fate.ACTIVE: "activated but never completed",
    Fate.DISCARDED: "discarded",
    Fate.NOT_REACHED: "never reached",
}


@dataclass(frozen=True)
class Verdict:
    """One expectation judged: ``summary`` is one line; ``why`` says what decided it."""

    expectation: Expectation
    passed: bool
    summary: str
    why: str = ""


@dataclass
class CaseResult:
    """A case's outcome: its verdicts, what else failed, the run itself, and warnings."""

    file: str
    flow: str
    title: str
    line: int | None
    verdicts: list[Verdict]
    run: Run
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and all(v.passed for v in self.verdicts)

    def failure_lines(self) -> list[str]:
        """One line per reason the case failed."""
        return [v.summary for v in self.verdicts if not v.passed] + self.failures

    def reasons(self) -> list[str]:
        """Why each failed expectation failed (the rule and the value), in ``failure_lines`` order."""
        return [v.why for v in self.verdicts if not v.passed] + ["" for _ in self.failures]


def judge(definition: CaseDefinition, run: Run, graph: Graph, file: str, flow: str) -> CaseResult:
    """Judge ``run`` against the case's expectations."""
    verdicts = [_verdict(e, run, graph) for e in definition.expectations]
    result = CaseResult(file, flow, definition.title, definition.line, verdicts, run)
    if not run.completed:
        waits = "; ".join(w.what for w in run.waiting) or "nothing more happened"
        result.failures.append(f"the care flow did not complete: {waits}")
    result.failures += [f"syncer could not simulate this faithfully: {p}" for p in run.problems]
    result.warnings += run.notes
    checklists = {
        str(a.get("title"))
        for s in graph.steps.values()
        for a in s.actions
        if a.get("type") == "checklist"
    }
    lines = definition.activity_lines
    for activity in definition.case.activities:
        line = lines[activity.index] if activity.index < len(lines) else None
        unknown = (
            activity.type == "checklist" and activity.name not in checklists
        )  # warned about already
        if activity.index not in run.used_activities and not unknown:
            where = f" (line {line})" if line else ""
            result.notes.append(
                f"activity {activity.index + 1}{where}, {activity.type} `{activity.name}`, was not used: "
                "nothing in this run waited for it"
            )
    return result


def _matches(event: Event, expectation: Expectation) -> bool:
    if event.subject != expectation.type:
        return False
    return expectation.type == "careflow" or expectation.name in (event.name, event.key)


def _verdict(expectation: Expectation, run: Run, graph: Graph) -> Verdict:
    events = [e for e in run.events if _matches(e, expectation)]
    if expectation.action == "NOT_TRIGGERED":
        passed = not any(e.action == "ACTIVATE" for e in events)
    else:
        passed = any(e.action == expectation.action for e in events)
    if expectation.type == "careflow":
        happened, why = (
            ("completed", _at(events, "COMPLETE"))
            if run.completed
            else ("not completed", _waiting(run))
        )
        summary = f"care flow was {happened}, expected {EXPECTED.get(expectation.action, expectation.action)}"
        return Verdict(expectation, passed, summary, why)
    ids = _ids(expectation, graph)
    fates = [run.steps.get(i) or run.tracks.get(i) or Fate.NOT_REACHED for i in ids]
    happened = " / ".join(dict.fromkeys(_FATE[f] for f in fates)) or "never reached"
    summary = f"{expectation.type} *{expectation.name}* was {happened}, expected {EXPECTED.get(expectation.action, expectation.action)}"
    why = "; ".join(_explain(expectation.type, i, run, graph) for i in ids)
    return Verdict(expectation, passed, summary, why)


def _ids(expectation: Expectation, graph: Graph) -> list[str]:
    if expectation.type == "step":
        return [s.id for s in graph.steps.values() if expectation.name in (s.title, s.key)]
    return [t.id for t in graph.tracks.values() if expectation.name in (t.title, t.key)]


def _at(events: list[Event], action: str) -> str:
    found = [e for e in events if e.action == action]
    return f"on {elapsed(found[0].at)}: {found[0].reason}" if found else ""


def _waiting(run: Run) -> str:
    return "; ".join(w.what for w in run.waiting) or "nothing more happened"


def _explain(kind: str, component: str, run: Run, graph: Graph) -> str:
    events = run.of(component)
    fate = (run.steps if kind == "step" else run.tracks).get(component, Fate.NOT_REACHED)
    if fate is Fate.COMPLETED:
        return f"activated {_at(events, 'ACTIVATE')}; completed {_at(events, 'COMPLETE')}"
    if fate is Fate.ACTIVE:
        waits = [w.what for w in run.waiting if w.id == component] or [_waiting(run)]
        return f"activated {_at(events, 'ACTIVATE')}; never completed: {'; '.join(waits)}"
    if fate is Fate.DISCARDED:
        return f"discarded {_at(events, 'DISCARDED')}"
    if kind == "track":
        return _never_started(component, run, graph)
    return _never_reached(component, run, graph)


def _never_started(track_id: str, run: Run, graph: Graph) -> str:
    triggers = [t for t in graph.triggers if t.target_track == track_id]
    if not triggers:
        return "never started: no trigger starts it"
    reasons = []
    for trigger in triggers:
        refused = [e for e in run.of(trigger.id) if e.action == "NOT_FIRED"]
        detail = f": {refused[-1].reason}" if refused else ", as what it waits for never happened"
        reasons.append(f"trigger `{trigger.id}` ({trigger.type}) never fired{detail}")
    return "never started: " + "; ".join(reasons)


def _never_reached(step_id: str, run: Run, graph: Graph) -> str:
    step = graph.steps[step_id]
    track = graph.tracks.get(step.track_id)
    if run.tracks.get(step.track_id) is Fate.NOT_REACHED:
        title = track.title if track else step.track_id
        return f"never reached: its track *{title}* never started ({_never_started(step.track_id, run, graph)})"
    origins = []
    for transition in graph.incoming.get(step_id, []):
        if transition.from_start:
            continue
        before = graph.steps.get(transition.origin)
        if before is not None:
            origins.append(
                f"step *{before.title}* was {_FATE[run.steps.get(before.id, Fate.NOT_REACHED)]}"
            )
    return "never reached: " + ("; ".join(origins) if origins else "no transition leads to it")
