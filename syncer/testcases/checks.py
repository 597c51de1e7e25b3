"""A test-case file against its care flow: every name it uses must exist, every value must fit.

Run after the schema check, on a document whose shape is sound. Errors make the file unusable (exit 1):
a form, question, step, track, data point or action the flow does not have (with "Did you mean ...?"),
an answer that is not a value of its question's type or not one of its options, an expectation syncer
can never observe. Warnings are kept with the results: a checklist the flow does not have (Awell's own
runner ignores such entries, and its example files have them), a form no action shows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from ..yamlio import Document, JsonPath
from .calculations import REGISTRY
from .graph import Graph
from .values import ValueProblem, convert, shown

JUDGED = {
    "step": ("ACTIVATE", "COMPLETE", "DISCARDED", "NOT_TRIGGERED"),
    "track": ("ACTIVATE", "COMPLETE", "NOT_TRIGGERED"),
    "careflow": ("ACTIVATE", "COMPLETE"),
}
"""The actions syncer's timeline can show for each kind of expectation."""


def suggest(value: str, known: Iterable[str]) -> str | None:
    """A "Did you mean ...?" for ``value`` among ``known`` (case differences first, then spelling)."""
    names = sorted(set(known) - {""})
    for name in names:
        if name.lower() == value.lower():
            return f"Did you mean `{name}`?"
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"Did you mean `{close[0]}`?" if close else None


def _hint(value: str, known: Iterable[str], otherwise: str) -> str:
    return suggest(value, known) or otherwise


@dataclass
class Findings:
    """Errors and warnings about one file, located."""

    doc: Document
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.errors.append(self.doc.problem(path, message, hint))

    def warn(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.warnings.append(self.doc.problem(path, message, hint))


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
            _activity(found, graph, (*path, "activities", n), activity)
        for n, expectation in enumerate(case.get("validate") or []):
            _expectation(found, graph, (*path, "validate", n), expectation)
    return found


def _baseline(found: Findings, graph: Graph, path: JsonPath, point: dict[str, Any]) -> None:
    point_id = str(point.get("definition_id"))
    if point_id not in graph.data_points:
        keys = {graph.label(p): p for p in graph.data_points}
        by_key = f"Did you mean `{keys[point_id]}` ({point_id})?" if point_id in keys else None
        hint = by_key or _hint(
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


def _activity(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    kind = activity.get("type")
    if kind == "form":
        _form(found, graph, path, activity)
    elif kind == "checklist":
        _checklist(found, graph, path, activity)
    elif kind == "calculation":
        _calculation(found, graph, path, activity)
    elif kind == "extension":
        _extension(found, graph, path, activity)
    elif kind == "api_call":
        _api_call(found, graph, path, activity)
    elif kind == "webhook":
        _webhook(found, graph, path, activity)
    elif kind == "start_track":
        _start_track(found, graph, path, activity)
    _narrowing(found, graph, path, activity)


def _actions(graph: Graph, *types: str) -> list[tuple[str, dict[str, Any]]]:
    """(step title, action) of every action of these types."""
    return [(s.title, a) for s in graph.steps.values() for a in s.actions if a.get("type") in types]


def _form(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    forms = [f for f in graph.forms.values() if name in (f.get("title"), f.get("key"))]
    if not forms:
        known = [str(f.get("title", "")) for f in graph.forms.values()]
        hint = _hint(
            name,
            known + [str(f.get("key", "")) for f in graph.forms.values()],
            f"Forms of this flow: {', '.join(f'`{k}`' for k in known) or 'none'}.",
        )
        found.error(
            (*path, "name"),
            f"the flow has no form titled `{name}` (a form is named by its title or key, not the action's title).",
            hint,
        )
        return
    form = forms[0]
    used = {a.get("form_definition_id") for _step, a in _actions(graph, "form")}
    if form.get("id") not in used:
        found.warn(
            (*path, "name"),
            f"no action of the flow shows form `{name}`; these answers are never used.",
        )
    questions = {str(q.get("key")): q for q in form.get("questions") or [] if isinstance(q, dict)}
    for n, answer in enumerate(activity.get("questions") or []):
        _answer(found, (*path, "questions", n), answer, questions, name)


def _answer(
    found: Findings,
    path: JsonPath,
    answer: dict[str, Any],
    questions: dict[str, dict[str, Any]],
    form: str,
) -> None:
    key = str(answer.get("key"))
    question = questions.get(key)
    if question is None:
        hint = _hint(
            key, questions, f"Questions of `{form}`: {', '.join(f'`{k}`' for k in questions)}."
        )
        found.error((*path, "key"), f"form `{form}` has no question `{key}`.", hint)
        return
    value_type = str(question.get("data_point_value_type", "string"))
    value = answer.get("value")
    try:
        typed = convert(value, value_type)
    except ValueProblem as exc:
        found.error((*path, "value"), f"question `{key}` takes a {value_type}: {exc}.")
        return
    options = [o for o in question.get("options") or [] if isinstance(o, dict)]
    if options and question.get("question_type") in (
        "multiple_choice",
        "multiple_select",
        "select",
    ):
        _option(found, (*path, "value"), key, typed, value_type, options)


def _option(
    found: Findings,
    path: JsonPath,
    key: str,
    typed: Any,
    value_type: str,
    options: list[dict[str, Any]],
) -> None:
    item_type = {"numbers_array": "number", "strings_array": "string"}.get(value_type, value_type)
    allowed = []
    for option in options:
        try:
            allowed.append(convert(option.get("value"), item_type))
        except ValueProblem:
            continue
    chosen = typed if isinstance(typed, tuple) else (typed,)
    wrong = [c for c in chosen if c not in allowed]
    if wrong:
        listed = ", ".join(f"{o.get('value')} ({o.get('label')})" for o in options)
        found.error(
            path,
            f"question `{key}` has no option {', '.join(shown(w) for w in wrong)}.",
            f"Its options: {listed}.",
        )


def _checklist(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    titles = [str(a.get("title", "")) for _step, a in _actions(graph, "checklist")]
    if name not in titles:
        hint = _hint(
            name,
            titles,
            f"Checklists of this flow: {', '.join(f'`{t}`' for t in titles) or 'none'}.",
        )
        found.warn(
            (*path, "name"),
            f"the flow has no checklist action titled `{name}`; this entry is never used.",
            hint,
        )


def _named_actions(
    found: Findings,
    graph: Graph,
    path: JsonPath,
    name: str,
    types: tuple[str, ...],
    ids: tuple[str, ...],
) -> list[dict[str, Any]]:
    actions = [a for _step, a in _actions(graph, *types)]
    matching = [a for a in actions if name == a.get("title") or any(name == a.get(i) for i in ids)]
    if not matching:
        titles = [str(a.get("title", "")) for a in actions]
        what = " or ".join(types).replace("_", " ")
        hint = _hint(
            name, titles, f"Its {what} actions: {', '.join(f'`{t}`' for t in titles) or 'none'}."
        )
        found.error(path, f"the flow has no {what} action `{name}`.", hint)
    return matching


def _outputs(
    found: Findings,
    path: JsonPath,
    activity: dict[str, Any],
    known: set[str],
    what: str,
    also: Iterable[str] = (),
) -> None:
    """Each given output key must be one of ``known`` (or of ``also``, accepted but not suggested)."""
    accepted = known | set(also)
    for n, answer in enumerate(activity.get("data_points") or []):
        key = str(answer.get("key"))
        if key not in accepted:
            hint = _hint(
                key, known, f"Its outputs: {', '.join(f'`{k}`' for k in sorted(known)) or 'none'}."
            )
            found.error((*path, "data_points", n, "key"), f"{what} has no output `{key}`.", hint)


def _calculation(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    for action in _named_actions(
        found, graph, (*path, "name"), name, ("calculation",), ("calculation_definition_id",)
    ):
        calculation = str(action.get("calculation_definition_id"))
        known = {p.split(".", 1)[1] for p in graph.data_points if p.startswith(f"{calculation}.")}
        if calculation in REGISTRY or known:
            _outputs(found, path, activity, known, f"calculation `{name}`", graph.data_points)


def _extension(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    field_name = "action_name" if activity.get("action_name") else "name"
    name = str(activity.get(field_name))
    actions = _named_actions(
        found, graph, (*path, field_name), name, ("plugin",), ("plugin_action_key",)
    )
    extension = activity.get("extension_name")
    if extension is not None and actions:
        actions = [a for a in actions if a.get("plugin_key") == extension]
        if not actions:
            found.error(
                (*path, "extension_name"),
                f"extension action `{name}` is not an action of extension `{extension}`.",
                "Use the extension's key, e.g. `elation`, or leave `extension_name` out.",
            )
    for action in actions[:1]:
        known = {
            str(p.get("key"))
            for p in action.get("extension_data_points") or []
            if isinstance(p, dict)
        }
        _outputs(found, path, activity, known, f"extension action `{name}`")


def _api_call(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    for action in _named_actions(
        found, graph, (*path, "name"), name, ("api_call", "api_call_graphql"), ()
    )[:1]:
        call = action.get("api_call") if isinstance(action.get("api_call"), dict) else {}
        known = {
            str(m.get("response_key"))
            for m in (call or {}).get("mappings") or []
            if isinstance(m, dict)
        }
        _outputs(found, path, activity, known, f"API call `{name}`")


def _webhook(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    hooks = {str(h.get("webhook_key")): h for h in graph.webhooks.values()}
    hooks |= {f"{h.get('extension')}.{h.get('webhook_key')}": h for h in graph.webhooks.values()}
    if name not in hooks:
        found.error(
            (*path, "name"),
            f"the flow has no extension webhook `{name}`.",
            _hint(name, hooks, "Use a `webhook_key` of `spec.extension_webhooks`."),
        )


def _start_track(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    ad_hoc = {
        graph.tracks[t.target_track].title
        for t in graph.triggers
        if t.type == "ad_hoc" and t.target_track in graph.tracks
    }
    if name in ad_hoc:
        return
    tracks = {t.title: t.id for t in graph.tracks.values()}
    if name in tracks:
        starts = sorted({t.type for t in graph.triggers if t.target_track == tracks[name]}) or [
            "nothing"
        ]
        found.error(
            (*path, "name"),
            f"track `{name}` has no ad hoc trigger; it is started by {', '.join(starts)}.",
            "A case can only start a track that Studio lets a person start (an ad hoc trigger).",
        )
        return
    hint = _hint(
        name, tracks, f"Tracks of this flow: {', '.join(f'`{t}`' for t in sorted(tracks))}."
    )
    found.error((*path, "name"), f"the flow has no track `{name}`.", hint)


def _narrowing(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    step = activity.get("step")
    if step is not None and not any(step in (s.title, s.key) for s in graph.steps.values()):
        titles = [s.title for s in graph.steps.values()]
        found.error(
            (*path, "step"),
            f"the flow has no step `{step}`.",
            _hint(str(step), titles, "Use a step's title."),
        )
    action = activity.get("action")
    if action is not None and not any(
        action == a.get("title") for s in graph.steps.values() for a in s.actions
    ):
        titles = [str(a.get("title", "")) for s in graph.steps.values() for a in s.actions]
        found.error(
            (*path, "action"),
            f"the flow has no action titled `{action}`.",
            _hint(str(action), titles, "Use an action's title."),
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
                _hint(str(name), names, "Use a step's title, as Awell shows it."),
            )
    if kind == "track" and name is not None:
        names = [t.title for t in graph.tracks.values()] + [t.key for t in graph.tracks.values()]
        if name not in names:
            found.error(
                (*path, "name"),
                f"the flow has no track `{name}`.",
                _hint(str(name), names, "Use a track's title, as Awell shows it."),
            )
