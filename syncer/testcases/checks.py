"""A test-case file against its care flow: every name it uses must exist, every value must fit.

Run after the schema check, on a document whose shape is sound. Errors make the file unusable (exit 1):
a form, question, step, track, data point or action the flow does not have (with "Did you mean ...?"),
an answer that is not a value of its question's type or not one of its options, an expectation syncer
can never observe. Warnings are kept with the results: a checklist the flow does not have (Awell's own
runner ignores such entries, and its example files have them), a form no action shows.
"""

from __future__ import annotations

from typing import Any

from ..yamlio import Document, JsonPath
from .activities import check_activity
from .findings import Findings, hint_for, suggest
from .graph import Graph
from .values import ValueProblem, convert

__all__ = ["JUDGED", "Findings", "check", "suggest"]

JUDGED = {
    "step": ("ACTIVATE", "COMPLETE", "DISCARDED", "NOT_TRIGGERED"),
    "track": ("ACTIVATE", "COMPLETE", "NOT_TRIGGERED"),
    "careflow": ("ACTIVATE", "COMPLETE"),
}
"""The actions syncer's timeline can show for each kind of expectation."""


def check(doc: Document, graph: Graph) -> Findings:
    """Every meaning problem of a schema-valid test-case document against ``graph``."""
    found = Findings(doc)
    titles: dict[str, int] = {}
    for index, case in enumerate(doc.data.get("cases") or []):
        path: JsonPath = ("cases", index)
        title = str(case.get("title", ""))
        if title in titles:
            found.warn(
                (*path, "title"),
                f"case {index + 1} has the same title as case {titles[title] + 1}.",
                "Give each case its own title: results and pull-request reports name cases by it.",
            )
        titles.setdefault(title, index)
        for n, point in enumerate(case.get("baseline_datapoints") or []):
            _baseline(found, graph, (*path, "baseline_datapoints", n), point)
        for n, activity in enumerate(case.get("activities") or []):
            check_activity(found, graph, (*path, "activities", n), activity)
            _narrowing(found, graph, (*path, "activities", n), activity)
        for n, expectation in enumerate(case.get("validate") or []):
            _expectation(found, graph, (*path, "validate", n), expectation)
    return found


def _baseline(found: Findings, graph: Graph, path: JsonPath, point: dict[str, Any]) -> None:
    point_id = str(point.get("definition_id"))
    if point_id not in graph.data_points:
        keys = {graph.label(p): p for p in graph.data_points}
        by_key = f"Did you mean `{keys[point_id]}` ({point_id})?" if point_id in keys else None
        hint = by_key or hint_for(
            point_id, graph.data_points, "Use an id from `spec.data_point_definitions`."
        )
        found.error(
            (*path, "definition_id"), f"the flow has no data point definition `{point_id}`.", hint
        )
        return
    _value(
        found,
        (*path, "value"),
        point.get("value"),
        graph.value_type(point_id),
        f"data point `{graph.label(point_id)}`",
    )


def _value(found: Findings, path: JsonPath, value: Any, value_type: str, what: str) -> None:
    try:
        convert(value, value_type)
    except ValueProblem as exc:
        found.error(path, f"{what} is a {value_type}: {exc}.")


def _narrowing(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    step = activity.get("step")
    if step is not None and not any(step in (s.title, s.key) for s in graph.steps.values()):
        titles = [s.title for s in graph.steps.values()]
        found.error(
            (*path, "step"),
            f"the flow has no step `{step}`.",
            hint_for(str(step), titles, "Use a step's title."),
        )
    action = activity.get("action")
    if action is not None and not any(
        action == a.get("title") for s in graph.steps.values() for a in s.actions
    ):
        titles = [str(a.get("title", "")) for s in graph.steps.values() for a in s.actions]
        found.error(
            (*path, "action"),
            f"the flow has no action titled `{action}`.",
            hint_for(str(action), titles, "Use an action's title."),
        )


def _expectation(found: Findings, graph: Graph, path: JsonPath, entry: dict[str, Any]) -> None:
    kind, action = str(entry.get("type")), str(entry.get("action"))
    if action not in JUDGED.get(kind, ()):
        found.error(
            (*path, "action"),
            f"syncer cannot observe a {kind} `{action}` offline; it judges {kind} actions {', '.join(JUDGED[kind])}.",
            "Awell's runner only reaches these too in a design preview; change the action or remove the entry.",
        )
    name = entry.get("name")
    if kind == "step" and name is not None:
        names = [s.title for s in graph.steps.values()] + [s.key for s in graph.steps.values()]
        if name not in names:
            found.error(
                (*path, "name"),
                f"the flow has no step `{name}`.",
                hint_for(str(name), names, "Use a step's title, as Awell shows it."),
            )
    if kind == "track" and name is not None:
        names = [t.title for t in graph.tracks.values()] + [t.key for t in graph.tracks.values()]
        if name not in names:
            found.error(
                (*path, "name"),
                f"the flow has no track `{name}`.",
                hint_for(str(name), names, "Use a track's title, as Awell shows it."),
            )
