"""A canonical care-flow document, indexed for the simulator: who follows whom, what waits for what.

Built once per flow from the document of ``docs/flow-format.md``. Lookups are by id; the lists keep the
canonical order (sorted by id), which is what makes a simulation deterministic. Written for documents that
passed ``syncer validate``, but a missing or malformed part is skipped, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import Delay

TRACK_START = "track_start"
TRACK_END = "track_end"


@dataclass(frozen=True)
class Step:
    id: str
    key: str
    title: str
    track_id: str
    actions: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Track:
    id: str
    key: str
    title: str


@dataclass(frozen=True)
class Transition:
    """A transition; ``origin`` is a step id or, for a track start, the track id (``from_start``)."""

    id: str
    track_id: str
    origin: str
    from_start: bool
    destination: str
    to_end: bool
    rule_id: str | None
    timing_id: str | None
    default: bool


@dataclass(frozen=True)
class Trigger:
    id: str
    type: str
    target_track: str | None  # None: the target is the care flow itself, or missing
    rule_id: str | None
    data_point_id: str | None
    step_id: str | None
    track_id: str | None
    webhook_id: str | None
    timer: Delay | None


@dataclass
class Graph:
    """The indexed flow (see the module docstring)."""

    definition_id: str = ""
    title: str = ""
    tracks: dict[str, Track] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    outgoing: dict[str, list[Transition]] = field(default_factory=dict)  # origin -> transitions
    incoming: dict[str, list[Transition]] = field(default_factory=dict)  # step -> transitions
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, Delay | None] = field(default_factory=dict)
    triggers: list[Trigger] = field(default_factory=list)
    data_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def value_type(self, data_point_id: str) -> str:
        """The value type of a data point (``string`` when the flow does not say)."""
        found = self.data_points.get(data_point_id, {}).get("value_type")
        return found if isinstance(found, str) else "string"

    def label(self, data_point_id: str) -> str:
        """How a message names a data point: its qualified key (``phq9.PHQ9_Q01``), key, or id."""
        point = self.data_points.get(data_point_id, {})
        for name in ("qualified_key", "key"):
            value = point.get(name)
            if isinstance(value, str) and value:
                return value
        return data_point_id

    def transition_delay(self, transition: Transition) -> Delay | None:
        return self.timings.get(transition.timing_id) if transition.timing_id else None


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def delay_of(value: Any) -> Delay | None:
    """A ``{amount, unit}`` mapping as a ``Delay`` (none when absent or malformed)."""
    data = _dict(value)
    amount, unit = data.get("amount"), data.get("unit")
    if isinstance(amount, int | float) and not isinstance(amount, bool) and isinstance(unit, str):
        return Delay(float(amount), unit)
    return None


def build(document: dict[str, Any]) -> Graph:
    """Index a care-flow document."""
    spec = _dict(document.get("spec"))
    metadata = _dict(document.get("metadata"))
    graph = Graph(_text(metadata.get("definition_id")), _text(metadata.get("title")))
    for track in _list(spec.get("tracks")):
        _add_track(graph, track)
    graph.rules = {_text(r.get("id")): r for r in _list(spec.get("rules"))}
    graph.timings = {
        _text(t.get("id")): delay_of(t.get("delay")) for t in _list(spec.get("timings"))
    }
    graph.triggers = [_trigger(t) for t in _list(spec.get("triggers"))]
    graph.data_points = {_text(p.get("id")): p for p in _list(spec.get("data_point_definitions"))}
    graph.forms = {_text(f.get("id")): f for f in _list(spec.get("forms"))}
    graph.webhooks = {_text(w.get("id")): w for w in _list(spec.get("extension_webhooks"))}
    return graph


def _add_track(graph: Graph, data: dict[str, Any]) -> None:
    track = Track(_text(data.get("id")), _text(data.get("key")), _text(data.get("title")))
    graph.tracks[track.id] = track
    for step in _list(data.get("steps")):
        actions = tuple(_list(step.get("actions")))
        graph.steps[_text(step.get("id"))] = Step(
            _text(step.get("id")),
            _text(step.get("key")),
            _text(step.get("title")),
            track.id,
            actions,
        )
    for item in _list(data.get("transitions")):
        origin, destination = _dict(item.get("origin")), _dict(item.get("destination"))
        transition = Transition(
            id=_text(item.get("id")),
            track_id=track.id,
            origin=_text(origin.get("node_id")),
            from_start=origin.get("type") == TRACK_START,
            destination=_text(destination.get("node_id")),
            to_end=destination.get("type") == TRACK_END,
            rule_id=item.get("rule_definition_id") or None,
            timing_id=item.get("timing_definition_id") or None,
            default=item.get("default") is True,
        )
        graph.outgoing.setdefault(transition.origin, []).append(transition)
        if not transition.to_end:
            graph.incoming.setdefault(transition.destination, []).append(transition)


def _trigger(data: dict[str, Any]) -> Trigger:
    settings, target = _dict(data.get("settings")), _dict(data.get("target"))
    return Trigger(
        id=_text(data.get("id")),
        type=_text(settings.get("type")),
        target_track=_text(target.get("id")) if target.get("type") == "track" else None,
        rule_id=settings.get("rule_id") or None,
        data_point_id=settings.get("data_point_definition_id") or None,
        step_id=settings.get("step_id") or None,
        track_id=settings.get("track_id") or None,
        webhook_id=settings.get("extension_webhook_id") or None,
        timer=delay_of(_dict(data.get("timer")).get("delay")),
    )
