"""Transitions: judged when their origin completes (or their track starts), taken or dead. Pure.

A transition with a rule is taken when the rule holds, one without a rule always, a ``default`` one when
no other transition from the same origin was (and its own rule, if it has one, holds). A taken transition
activates its destination after its timing's delay. A step none of whose ways in was taken is
``DISCARDED``, and every transition out of it dies in turn, so a step only a discarded step leads to is
discarded too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import clock
from .events import DISCARDED, NOT_TAKEN, TAKEN, Fate
from .graph import Transition

if TYPE_CHECKING:
    from .engine import Engine


def judge(engine: Engine, origin: str, origin_name: str) -> None:
    """Judge every transition out of ``origin`` (a completed step, or a started track's start)."""
    outgoing = engine.graph.outgoing.get(origin, [])
    decided: list[tuple[Transition, bool, str]] = []
    for transition in (t for t in outgoing if not t.default):
        if transition.rule_id:
            verdict = engine.judge(transition.rule_id)
            decided.append((transition, verdict.holds, verdict.because))
        else:
            decided.append((transition, True, "it has no rule"))
    any_taken = any(taken for _t, taken, _why in decided)
    for transition in (t for t in outgoing if t.default):
        decided.append((transition, *_default(engine, transition, any_taken)))
    for transition, taken, why in decided:
        _resolve(engine, transition, taken, f"from {origin_name}: {why}")
    if outgoing and not any(taken for _t, taken, _why in decided):
        track = _owner(engine, origin)
        engine.dead_ends.setdefault(track, []).append(
            f"{origin_name} completed and none of its transitions was taken"
        )


def _default(engine: Engine, transition: Transition, any_taken: bool) -> tuple[bool, str]:
    if any_taken:
        return False, "it is the default, and another transition was taken"
    if transition.rule_id:
        verdict = engine.judge(transition.rule_id)
        return verdict.holds, f"it is the default, and {verdict.because}"
    return True, "it is the default, and no other transition was taken"


def _owner(engine: Engine, origin: str) -> str:
    step = engine.graph.steps.get(origin)
    return step.track_id if step else origin


def _resolve(engine: Engine, transition: Transition, taken: bool, why: str) -> None:
    """Record a judged transition: schedule its destination, or discard what it alone led to."""
    target = _destination_name(engine, transition)
    if not taken:
        _dead(engine, transition, why)
        return
    engine.taken.add(transition.id)
    delay = engine.graph.transition_delay(transition)
    wait = f", after {delay}" if delay and delay.amount > 0 else ""
    engine.emit("transition", TAKEN, transition.id, target, f"{why}{wait}")
    kind = "end" if transition.to_end else "step"
    subject = transition.track_id if transition.to_end else transition.destination
    reason = f"transition `{transition.id}` was taken {why}{wait}"
    engine.schedule(clock.later(engine.moment, delay), kind, subject, reason)


def _dead(engine: Engine, first: Transition, first_why: str) -> None:
    """Mark transitions not taken; a step all of whose ways in are dead is discarded, and so on."""
    pending = [(first, first_why)]
    while pending:
        transition, why = pending.pop()
        engine.not_taken[transition.id] = why
        engine.emit(
            "transition", NOT_TAKEN, transition.id, _destination_name(engine, transition), why
        )
        step = None if transition.to_end else engine.graph.steps.get(transition.destination)
        if step is None or engine.steps[step.id] is not Fate.NOT_REACHED:
            continue
        ways_in = engine.graph.incoming.get(step.id, [])
        if all(t.id in engine.not_taken for t in ways_in):
            engine.steps[step.id] = Fate.DISCARDED
            because = "; ".join(engine.not_taken[t.id] for t in ways_in)
            engine.emit(
                "step",
                DISCARDED,
                step.id,
                step.title,
                f"no transition into it was taken ({because})",
                key=step.key,
                within=engine.track_title(step),
            )
            for onward in engine.graph.outgoing.get(step.id, []):
                pending.append((onward, f"from step *{step.title}*, which was discarded"))


def _destination_name(engine: Engine, transition: Transition) -> str:
    if transition.to_end:
        track = engine.graph.tracks.get(transition.track_id)
        return f"end of {track.title if track else transition.track_id}"
    step = engine.graph.steps.get(transition.destination)
    return step.title if step else transition.destination
