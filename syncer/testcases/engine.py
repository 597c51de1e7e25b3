"""The care-flow simulator: plays one case on a virtual clock, as the orchestration engine would. Pure.

``simulate(document, case)`` starts the care flow, sets the case's baseline data points, fires the
``pathway_started`` triggers, and then handles what is due, earliest first (ties in the order they were
scheduled), until nothing is left or the care flow completed:

- a started track judges the transitions out of its start; a taken transition activates its destination,
  after the transition's timing when it has one; a step runs its actions one after the other
  (``syncer.simulate.actions``) and completes when the last has;
- a completed step judges its transitions: each with a rule is taken when the rule holds, one without a
  rule always; a default transition is taken when no other was. A step none of whose ways in was taken is
  ``DISCARDED``, and so, in turn, is every step only it leads to;
- a track completes when its end was reached and none of its steps is still active or about to be; the
  care flow completes when every track it started has;
- triggers (``syncer.simulate.triggers``) start tracks when a data point is collected (or was not, by a
  deadline), a step or track completes, a webhook arrives or the case starts a track ad hoc.

Every step and every track runs at most once per case: a second way into an active or completed step, or
a second trigger of a started track, is written in the timeline and changes nothing. That makes every run
finite, and every step end activated-and-completed, discarded or never reached.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from . import actions, clock, rules, transitions, triggers
from .events import (
    ACTIVATE,
    COLLECTED,
    COMPLETE,
    Event,
    Fate,
    Run,
    Waiting,
)
from .graph import Graph, Step, build
from .inputs import CASE_TYPES, Activity, Case
from .values import ValueProblem, convert, shown

MAX_EVENTS = 200_000
"""A guard against a bug, never a limit a flow meets: every run is finite by construction."""


@dataclass(order=True)
class _Due:
    at: int
    seq: int
    kind: str = field(compare=False)
    subject: str = field(compare=False)
    reason: str = field(compare=False, default="")
    detail: Any = field(compare=False, default=None)


def simulate(flow: dict[str, Any] | Graph, case: Case) -> Run:
    """Play ``case`` on a care-flow document (or its ``Graph``); the timeline and every fate."""
    return Engine(flow if isinstance(flow, Graph) else build(flow), case).run()


class Engine:
    """One simulation: the flow, the case, the virtual clock and everything that happened so far."""

    def __init__(self, graph: Graph, case: Case) -> None:
        self.graph = graph
        self.case = case
        self.moment = 0
        self.result = Run()
        self.values: dict[str, Any] = {}
        self.collected_at: dict[str, int] = {}
        self.steps = {step_id: Fate.NOT_REACHED for step_id in graph.steps}
        self.tracks = {track_id: Fate.NOT_REACHED for track_id in graph.tracks}
        self.ends: set[str] = set()
        self.not_taken: dict[str, str] = {}  # transition id -> why it was not taken
        self.taken: set[str] = set()
        self.next_action: dict[str, int] = {}
        self.waiting: dict[tuple[str, int], str] = {}
        self.dead_ends: dict[str, list[str]] = {}
        self._due: list[_Due] = []
        self._seq = 0

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> Run:
        self.emit(
            "careflow", ACTIVATE, self.graph.definition_id, self.graph.title, "the case started it"
        )
        triggers.care_flow_started(self)
        for answer in self.case.baseline:
            self.collect(answer.key, answer.value, "a baseline data point of the case")
        for activity in self.case.activities:
            if activity.type in CASE_TYPES:
                when = clock.later(0, activity.after)
                self.schedule(when, "activity", activity.name, detail=activity)
        while not self.result.completed:
            # Whatever is due at this moment happens before tracks and the care flow are judged done.
            if not self._due or self._due[0].at > self.moment:
                self._settle()
                if self.result.completed or not self._due:
                    break
            if len(self.result.events) > MAX_EVENTS:
                self.problem(f"the simulation did not settle after {MAX_EVENTS} events")
                break
            self._handle(heapq.heappop(self._due))
        return self._finish()

    def _handle(self, due: _Due) -> None:
        self.moment = max(self.moment, due.at)
        if due.kind == "step":
            self.activate_step(due.subject, due.reason)
        elif due.kind == "end":
            self.reach_end(due.subject, due.reason)
        elif due.kind == "track":
            self.start_track(due.subject, due.reason)
        elif due.kind == "answer":
            actions.answered(self, due.subject, due.detail)
        elif due.kind == "deadline":
            triggers.deadline(self, due.detail)
        elif due.kind == "activity":
            triggers.case_activity(self, due.detail)

    def schedule(
        self, at: int, kind: str, subject: str, reason: str = "", detail: Any = None
    ) -> None:
        self._seq += 1
        heapq.heappush(self._due, _Due(at, self._seq, kind, subject, reason, detail))

    # -- events and data points ------------------------------------------------------------------

    def emit(
        self, subject: str, action: str, component: str, name: str, reason: str = "", **more: str
    ) -> None:
        self.result.events.append(
            Event(self.moment, subject, action, component, name, reason, **more)
        )

    def problem(self, text: str) -> None:
        if text not in self.result.problems:
            self.result.problems.append(text)

    def note(self, text: str) -> None:
        if text not in self.result.notes:
            self.result.notes.append(text)

    def collect(self, point: str, raw: Any, reason: str, quiet: bool = False) -> None:
        """Record a data point's value and fire the triggers that watch it."""
        if self.record(point, raw, reason, quiet):
            triggers.data_point_collected(self, point)

    def collect_all(self, rows: list[tuple[str, Any, str]]) -> None:
        """Record several data points (an action's outputs, a webhook's data), then fire their
        triggers: what arrives together is stored together before any trigger looks at it."""
        recorded = [point for point, raw, reason in rows if self.record(point, raw, reason)]
        for point in recorded:
            triggers.data_point_collected(self, point)

    def record(self, point: str, raw: Any, reason: str, quiet: bool = False) -> bool:
        """Store a data point's value, converted to its type, without firing triggers."""
        try:
            value = convert(raw, self.graph.value_type(point))
        except ValueProblem as exc:
            self.problem(f"data point `{self.graph.label(point)}`: {exc}")
            return False
        self.values[point] = value
        self.collected_at[point] = self.moment
        if not quiet:
            text = f"{reason}: {shown(value)}"
            self.emit("data_point", COLLECTED, point, self.graph.label(point), text)
        return True

    def judge(self, rule_id: str) -> rules.Verdict:
        verdict = rules.judge(self.graph, rule_id, self.values, self.moment)
        for text in verdict.problems:
            self.problem(text)
        return verdict

    # -- tracks ----------------------------------------------------------------------------------

    def start_track(self, track_id: str, reason: str) -> None:
        track = self.graph.tracks.get(track_id)
        if track is None:
            self.problem(f"a trigger starts track `{track_id}`, which does not exist in the flow")
            return
        if self.tracks[track_id] is not Fate.NOT_REACHED:
            self.emit(
                "track",
                "NOT_STARTED",
                track.id,
                track.title,
                f"{reason}; it had started already, and a track runs once per case",
                key=track.key,
            )
            return
        self.tracks[track_id] = Fate.ACTIVE
        self.emit("track", ACTIVATE, track.id, track.title, reason, key=track.key)
        self.collect(
            f"{track_id}-ACTIVATION", clock.iso(self.moment), "track activated", quiet=True
        )
        if not self.graph.outgoing.get(track_id):
            self.dead_ends.setdefault(track_id, []).append(
                "the track has no transition out of its start"
            )
        transitions.judge(self, track_id, f"the start of track *{track.title}*")

    def reach_end(self, track_id: str, reason: str) -> None:
        self.ends.add(track_id)
        track = self.graph.tracks[track_id]
        self.emit("track", "END_REACHED", track.id, track.title, reason, key=track.key)

    def _complete_tracks(self) -> bool:
        done = False
        for track_id in sorted(self.ends):
            if self.tracks.get(track_id) is Fate.ACTIVE and not self._busy(track_id):
                track = self.graph.tracks[track_id]
                self.tracks[track_id] = Fate.COMPLETED
                self.emit(
                    "track",
                    COMPLETE,
                    track.id,
                    track.title,
                    "its end was reached and none of its steps is active",
                    key=track.key,
                )
                self.collect(
                    f"{track_id}-COMPLETION", clock.iso(self.moment), "track completed", quiet=True
                )
                triggers.track_completed(self, track_id)
                done = True
        return done

    def _busy(self, track_id: str) -> bool:
        """Whether a step of the track is active or about to be activated."""
        for step_id, fate in self.steps.items():
            if fate is Fate.ACTIVE and self.graph.steps[step_id].track_id == track_id:
                return True
        return any(
            d.kind in ("step", "end", "answer") and self._track_of(d) == track_id for d in self._due
        )

    def _track_of(self, due: _Due) -> str:
        if due.kind == "end":
            return due.subject
        step = self.graph.steps.get(due.subject)
        return step.track_id if step else ""

    def _settle(self) -> None:
        """Complete the tracks that are done, then the care flow if nothing holds it open."""
        while self._complete_tracks():
            pass
        started = [fate for fate in self.tracks.values() if fate is not Fate.NOT_REACHED]
        holding = [d for d in self._due if d.kind in ("step", "end", "track", "answer")]
        if all(fate is Fate.COMPLETED for fate in started) and not holding:
            reason = "every track it started has completed" if started else "no track was started"
            self.emit("careflow", COMPLETE, self.graph.definition_id, self.graph.title, reason)
            self.result.completed = True

    # -- steps -----------------------------------------------------------------------------------

    def activate_step(self, step_id: str, reason: str) -> None:
        step = self.graph.steps[step_id]
        fate = self.steps[step_id]
        if fate is not Fate.NOT_REACHED:
            self.emit(
                "step",
                "NOT_ACTIVATED",
                step.id,
                step.title,
                f"{reason}; it was {fate.value} already, and a step runs once per case",
                key=step.key,
                within=self.track_title(step),
            )
            return
        self.steps[step_id] = Fate.ACTIVE
        self.emit(
            "step",
            ACTIVATE,
            step.id,
            step.title,
            reason,
            key=step.key,
            within=self.track_title(step),
        )
        self.collect(f"{step_id}-ACTIVATION", clock.iso(self.moment), "step activated", quiet=True)
        self.next_action[step_id] = 0
        actions.advance(self, step)

    def complete_step(self, step: Step) -> None:
        self.steps[step.id] = Fate.COMPLETED
        count = len(step.actions)
        why = (
            "it has no actions"
            if not count
            else f"its {count} action{'s' if count != 1 else ''} completed"
        )
        self.emit(
            "step", COMPLETE, step.id, step.title, why, key=step.key, within=self.track_title(step)
        )
        self.collect(f"{step.id}-COMPLETION", clock.iso(self.moment), "step completed", quiet=True)
        triggers.step_completed(self, step.id)
        transitions.judge(self, step.id, f"step *{step.title}*")

    def track_title(self, step: Step) -> str:
        track = self.graph.tracks.get(step.track_id)
        return track.title if track else ""

    # -- actions waiting on the case -------------------------------------------------------------

    def match(
        self,
        kind: str,
        names: set[str],
        step: Step,
        action_title: str,
        extension: str | None = None,
    ) -> Activity | None:
        """The case's entry for an action: same type and name, the most specific first, then in order."""
        found = [
            a
            for a in self.case.activities
            if a.type == kind
            and a.name in names
            and (a.step is None or a.step in (step.title, step.key))
            and (a.action is None or a.action == action_title)
            and (a.extension is None or a.extension == extension)
        ]
        if not found:
            return None
        chosen = sorted(found, key=lambda a: (-a.specificity, a.index))[0]
        self.result.used_activities.add(chosen.index)
        return chosen

    # -- the end ---------------------------------------------------------------------------------

    def _finish(self) -> Run:
        run = self.result
        run.steps = dict(self.steps)
        run.tracks = dict(self.tracks)
        if not run.completed:
            run.waiting = self._why_not_complete()
        return run

    def _why_not_complete(self) -> list[Waiting]:
        waiting = [Waiting(step_id, text) for (step_id, _index), text in self.waiting.items()]
        for track_id, fate in self.tracks.items():
            if fate is not Fate.ACTIVE or track_id in self.ends:
                continue
            if any(
                f is Fate.ACTIVE and self.graph.steps[s].track_id == track_id
                for s, f in self.steps.items()
            ):
                continue  # its waiting action says why already
            title = self.graph.tracks[track_id].title
            reasons = self.dead_ends.get(track_id) or ["no path through it is left"]
            waiting.append(
                Waiting(track_id, f"track *{title}* never reached its end: {'; '.join(reasons)}")
            )
        return waiting
