"""Triggers: what starts a track, and when. Pure.

| trigger type | fires when |
|---|---|
| ``pathway_started`` | the care flow starts |
| ``data_point_collected`` | its data point is collected (a baseline data point at the start, an answer, an output) |
| ``data_point_not_collected`` | its data point has not been collected by the deadline: the timer's delay after the care flow started (no timer: at the start, after the baseline) |
| ``step_completed`` / ``track_completed`` | its step / track completes |
| ``extension_webhook`` | the case's ``webhook`` activity for that webhook arrives |
| ``ad_hoc`` | the case's ``start_track`` activity names its track |

A trigger with a rule fires only when the rule holds at that moment. A fired trigger starts its track
after the trigger's timer (``data_point_not_collected`` uses its timer as the deadline instead). A trigger
whose target is the care flow itself starts nothing and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import clock
from .events import FIRED, NOT_FIRED
from .graph import Trigger
from .inputs import START_TRACK, WEBHOOK, Activity
from .values import shown

if TYPE_CHECKING:
    from .engine import Engine


def care_flow_started(engine: Engine) -> None:
    """Fire ``pathway_started`` triggers; arm the ``data_point_not_collected`` deadlines."""
    for trigger in engine.graph.triggers:
        if trigger.type == "pathway_started":
            fire(engine, trigger, "the care flow started")
        elif trigger.type == "data_point_not_collected":
            engine.schedule(clock.later(0, trigger.timer), "deadline", trigger.id, detail=trigger)


def data_point_collected(engine: Engine, point: str) -> None:
    value = shown(engine.values.get(point))
    for trigger in engine.graph.triggers:
        if trigger.type == "data_point_collected" and trigger.data_point_id == point:
            fire(
                engine, trigger, f"data point `{engine.graph.label(point)}` was collected ({value})"
            )


def step_completed(engine: Engine, step_id: str) -> None:
    title = engine.graph.steps[step_id].title
    for trigger in engine.graph.triggers:
        if trigger.type == "step_completed" and trigger.step_id == step_id:
            fire(engine, trigger, f"step *{title}* completed")


def track_completed(engine: Engine, track_id: str) -> None:
    title = engine.graph.tracks[track_id].title
    for trigger in engine.graph.triggers:
        if trigger.type == "track_completed" and trigger.track_id == track_id:
            fire(engine, trigger, f"track *{title}* completed")


def deadline(engine: Engine, trigger: Trigger) -> None:
    """A ``data_point_not_collected`` deadline: fire unless the data point was collected by now."""
    point = trigger.data_point_id or ""
    label = engine.graph.label(point)
    within = f"within {trigger.timer} of the start" if trigger.timer else "at the start"
    if point in engine.collected_at:
        when = clock.elapsed(engine.collected_at[point])
        why = f"data point `{label}` was collected on {when}, {within}"
        engine.emit("trigger", NOT_FIRED, trigger.id, _target_name(engine, trigger), why)
        return
    fire(engine, trigger, f"data point `{label}` was not collected {within}", delayed=False)


def case_activity(engine: Engine, activity: Activity) -> None:
    """A ``webhook`` or ``start_track`` activity of the case, at its moment."""
    if activity.type == WEBHOOK:
        _webhook(engine, activity)
    elif activity.type == START_TRACK:
        found = [
            t
            for t in engine.graph.triggers
            if t.type == "ad_hoc" and _target_name(engine, t) == activity.name
        ]
        engine.result.used_activities.add(activity.index)
        if not found:
            engine.problem(f"the case starts track *{activity.name}*, which has no ad hoc trigger")
        for trigger in found:
            fire(engine, trigger, "the case started it ad hoc")


def _webhook(engine: Engine, activity: Activity) -> None:
    hooks = {
        hook_id: hook
        for hook_id, hook in engine.graph.webhooks.items()
        if activity.name
        in (hook.get("webhook_key"), f"{hook.get('extension')}.{hook.get('webhook_key')}")
    }
    if not hooks:
        engine.problem(f"the case sends webhook `{activity.name}`, which the flow does not have")
        return
    engine.result.used_activities.add(activity.index)
    rows = []
    for hook in hooks.values():
        prefix = f"{hook.get('extension')}.{hook.get('webhook_key')}."
        for answer in activity.answers:
            point = _webhook_point(engine, prefix + answer.key) or answer.key
            rows.append((point, answer.value, f"webhook `{activity.name}`, given by the case"))
    engine.collect_all(rows)
    for trigger in engine.graph.triggers:
        if trigger.type == "extension_webhook" and trigger.webhook_id in hooks:
            fire(engine, trigger, f"webhook `{activity.name}` arrived")


def _webhook_point(engine: Engine, qualified: str) -> str | None:
    for point_id, point in engine.graph.data_points.items():
        if point.get("qualified_key") == qualified:
            return point_id
    return None


def _target_name(engine: Engine, trigger: Trigger) -> str:
    track = engine.graph.tracks.get(trigger.target_track or "")
    return track.title if track else "the care flow"


def fire(engine: Engine, trigger: Trigger, why: str, delayed: bool = True) -> None:
    """Fire ``trigger`` (its rule permitting): its track starts now, or after its timer."""
    target = _target_name(engine, trigger)
    if trigger.rule_id:
        verdict = engine.judge(trigger.rule_id)
        if not verdict.holds:
            engine.emit("trigger", NOT_FIRED, trigger.id, target, f"{why}, but {verdict.because}")
            return
        why = f"{why}, and {verdict.because}"
    if trigger.target_track is None:
        engine.emit(
            "trigger",
            NOT_FIRED,
            trigger.id,
            target,
            f"{why}; it targets the care flow, not a track, so nothing starts",
        )
        return
    delay = trigger.timer if delayed else None
    wait = f"; the track starts {delay} later" if delay and delay.amount > 0 else ""
    engine.emit("trigger", FIRED, trigger.id, target, f"{why}{wait}")
    reason = f"trigger `{trigger.id}` ({trigger.type}): {why}"
    engine.schedule(clock.later(engine.moment, delay), "track", trigger.target_track, reason)
