"""Mermaid flowcharts of care-flow tracks, for pull-request reports. Pure: data in, text out.

A track is drawn as ``flowchart TD``: a start node, one node per step, an end node, and one edge per
transition, labelled with its rule in words ("PHQ9_SCORE ≥ 10"). Steps are coloured by what happens to
them: added (green), changed (amber), removed (red, dashed, drawn from the old side).

Everything a user typed (titles, keys, operand values) ends up inside a quoted label, so it is escaped
with Mermaid's entity codes: a title such as ``A-->B["x"]`` can neither close its label nor add nodes or
edges, and a backtick can never close the Markdown code fence the diagram lives in. Node ids are derived
from component ids by keeping only ``[A-Za-z0-9_]``, never from titles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..model import Change, FlowPlan, Status
from ..plan import names
from .safe_text import flatten

LABEL_LIMIT = 60

# Mermaid entity codes for every character that could end a label, start markup or close the fence.
_ENTITIES: dict[str, str] = {
    "#": "#35;",
    "&": "#38;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
    "[": "#91;",
    "]": "#93;",
    "(": "#40;",
    ")": "#41;",
    "{": "#123;",
    "}": "#125;",
    "|": "#124;",
    ";": "#59;",
    "\\": "#92;",
}
_SPECIAL = re.compile("|".join(re.escape(char) for char in _ENTITIES))

CLASS_DEFS = (
    "classDef added fill:#dafbe1,stroke:#1a7f37,color:#0f5323",
    "classDef changed fill:#fff8c5,stroke:#9a6700,color:#4d2d00",
    "classDef removed fill:#ffebe9,stroke:#cf222e,color:#82071e,stroke-dasharray:5 5",
)
_MARKS = {"added": " (new)", "changed": " (changed)", "removed": " (removed)", "": ""}
_START, _END = "track_start", "track_end"


def label(text: object, limit: int = LABEL_LIMIT) -> str:
    """A quoted Mermaid label: one line, at most ``limit`` characters, every special escaped."""
    flat = flatten(text, limit)
    return '"' + _SPECIAL.sub(lambda match: _ENTITIES[match.group()], flat) + '"'


def node_id(component_id: object, prefix: str = "s_") -> str:
    """A safe node id: ``prefix`` plus the id with everything outside ``[A-Za-z0-9_]`` replaced."""
    return prefix + (re.sub(r"[^A-Za-z0-9_]", "_", str(component_id)) or "_")


def rule_words(
    rule: dict[str, Any] | None, data_points: dict[str, dict[str, Any]], limit: int = 3
) -> str:
    """A rule in words: ``PHQ9_SCORE ≥ 10 and MOOD is filled`` (at most ``limit`` conditions), data
    points by key: a diagram's labels are short."""
    return names.rule_words(rule, names.from_definitions(data_points), names.short, limit)


def _by_id(items: Iterable[Any]) -> dict[str, dict[str, Any]]:
    return {str(i["id"]): i for i in items if isinstance(i, dict) and "id" in i}


def _step_states(
    new: dict[str, dict[str, Any]], old: dict[str, dict[str, Any]]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Step id -> (state, the step to draw); removed steps come from the old side."""
    states: dict[str, tuple[str, dict[str, Any]]] = {}
    for step_id, step in new.items():
        if step_id not in old:
            states[step_id] = ("added", step)
        else:
            states[step_id] = ("changed" if old[step_id] != step else "", step)
    for step_id, step in old.items():
        if step_id not in new:
            states[step_id] = ("removed", step)
    return states


class _Ids:
    """Node ids that stay unique after sanitising (``a-b`` and ``a_b`` would otherwise collide)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        if raw not in self._ids:
            candidate = base = node_id(raw)
            taken = set(self._ids.values()) | {_START, _END}
            counter = 2
            while candidate in taken:
                candidate, counter = f"{base}_{counter}", counter + 1
            self._ids[raw] = candidate
        return self._ids[raw]


def track_flowchart(
    desired_track: dict[str, Any] | None,
    live_track: dict[str, Any] | None,
    rules: dict[str, dict[str, Any]],
    data_points: dict[str, dict[str, Any]],
    *,
    timings: dict[str, dict[str, Any]] | None = None,
) -> str:
    """``flowchart TD`` of one track: ``desired_track`` is the new side, ``live_track`` the old one.

    Either side may be None (a track being created or removed). Steps only in the new side are
    ``added``, only in the old side ``removed``, in both but different ``changed``. Transitions only
    in the old side are drawn dotted.
    """
    new, old = desired_track or {}, live_track or {}
    states = _step_states(_by_id(new.get("steps") or []), _by_id(old.get("steps") or []))
    ids = _Ids()
    lines = ["flowchart TD", f"  {_START}([Start])", f"  {_END}([End])"]
    old_steps = _by_id(old.get("steps") or [])
    for step_id, (state, step) in states.items():
        text = _step_title(step, step_id)
        before = _step_title(old_steps[step_id], step_id) if state == "changed" else text
        if before != text:  # a renamed step shows both titles, each cut to half the room
            text = f"{flatten(before, LABEL_LIMIT // 2)} → {flatten(text, LABEL_LIMIT // 2)}"
        text = flatten(text, LABEL_LIMIT + 3) + _MARKS[state]  # cut the title, never the mark
        lines.append(f"  {ids(step_id)}[{label(text, LABEL_LIMIT + 15)}]")
    new_edges = _by_id(new.get("transitions") or [])
    old_edges = {
        k: v for k, v in _by_id(old.get("transitions") or []).items() if k not in new_edges
    }
    for edges, arrow in ((new_edges, "-->"), (old_edges, "-.->")):
        for transition in edges.values():
            lines.append(_edge(transition, arrow, ids, rules, data_points, timings or {}))
    lines.extend(f"  {line}" for line in CLASS_DEFS)
    for state in ("added", "changed", "removed"):
        members = [ids(i) for i, (s, _) in states.items() if s == state]
        if members:
            lines.append(f"  class {','.join(members)} {state}")
    return "\n".join(lines) + "\n"


def _step_title(step: dict[str, Any], step_id: str) -> str:
    return flatten(step.get("title") or step.get("key") or step_id, LABEL_LIMIT)


def _edge(
    transition: dict[str, Any],
    arrow: str,
    ids: _Ids,
    rules: dict[str, dict[str, Any]],
    data_points: dict[str, dict[str, Any]],
    timings: dict[str, dict[str, Any]],
) -> str:
    origin = transition.get("origin") or {}
    destination = transition.get("destination") or {}
    source = _START if origin.get("type") == "track_start" else ids(str(origin.get("node_id")))
    target = (
        _END if destination.get("type") == "track_end" else ids(str(destination.get("node_id")))
    )
    words = rule_words(rules.get(str(transition.get("rule_definition_id"))), data_points)
    if transition.get("default") and not words:
        words = "otherwise"
    timing = timings.get(str(transition.get("timing_definition_id")))
    if timing is not None:
        words = f"{words}, {names.delay_words(timing.get('delay'))}".strip(", ")
    if not words:
        return f"  {source} {arrow} {target}"
    return f"  {source} {arrow}|{label(words)}| {target}"


def _spec(document: dict[str, Any] | None) -> dict[str, Any]:
    spec = (document or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def changed_track_ids(plan: FlowPlan) -> list[str]:
    """Ids of the tracks a plan's changes touch: directly, or through a rule one of their edges uses."""
    changes: list[Change] = [*plan.changes, *plan.git_side]
    touched = [c.id for ch in changes for c in ch.trail if c.kind == "track"]
    rule_ids = {c.id for ch in changes for c in ch.trail if c.kind == "rule"}
    for document in (plan.desired, plan.live):
        for track in _spec(document).get("tracks") or []:
            edges = track.get("transitions") or [] if isinstance(track, dict) else []
            if any(
                str(t.get("rule_definition_id")) in rule_ids for t in edges if isinstance(t, dict)
            ):
                touched.append(str(track.get("id")))
    if plan.status is Status.CREATE and not touched:
        touched = [str(t.get("id")) for t in _spec(plan.desired).get("tracks") or []]
    return list(dict.fromkeys(touched))


def flow_diagrams(plan: FlowPlan) -> list[tuple[str, str]]:
    """``(track title, flowchart)`` for each track the plan changes.

    For drift and conflict the live (Production) side is drawn as the new one, so the colours show
    what the edit in Production did relative to Git; otherwise Git is new and the colours show what
    applying would do. Orphaned flows (nothing in Git) get no diagrams.
    """
    if plan.status in (Status.ORPHANED, Status.IN_SYNC) or plan.desired is None:
        return []
    drifted = plan.status in (Status.DRIFT, Status.CONFLICT)
    new_doc, old_doc = (plan.live, plan.desired) if drifted else (plan.desired, plan.live)
    new_spec, old_spec = _spec(new_doc), _spec(old_doc)
    new_tracks, old_tracks = (
        _by_id(new_spec.get("tracks") or []),
        _by_id(old_spec.get("tracks") or []),
    )
    rules = {**_by_id(old_spec.get("rules") or []), **_by_id(new_spec.get("rules") or [])}
    points = {
        **_by_id(old_spec.get("data_point_definitions") or []),
        **_by_id(new_spec.get("data_point_definitions") or []),
    }
    timings = {**_by_id(old_spec.get("timings") or []), **_by_id(new_spec.get("timings") or [])}
    diagrams = []
    for track_id in changed_track_ids(plan):
        new, old = new_tracks.get(track_id), old_tracks.get(track_id)
        if new is None and old is None:
            continue
        title = str((new or old or {}).get("title") or (new or old or {}).get("key") or track_id)
        diagrams.append((title, track_flowchart(new, old, rules, points, timings=timings)))
    return diagrams
