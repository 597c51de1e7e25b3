"""A case's activities against the flow: the form, checklist or action each names exists, every
answer fits its question, every output key is one the action has."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..yamlio import JsonPath
from .calculations import REGISTRY
from .findings import Findings, hint_for
from .graph import Graph
from .values import ValueProblem, convert, shown


def check_activity(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    """Every problem of one entry of a case's ``activities`` against the flow."""
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


def _actions(graph: Graph, *types: str) -> list[tuple[str, dict[str, Any]]]:
    """(step title, action) of every action of these types."""
    return [(s.title, a) for s in graph.steps.values() for a in s.actions if a.get("type") in types]


def _form(found: Findings, graph: Graph, path: JsonPath, activity: dict[str, Any]) -> None:
    name = str(activity.get("name"))
    forms = [f for f in graph.forms.values() if name in (f.get("title"), f.get("key"))]
    if not forms:
        known = [str(f.get("title", "")) for f in graph.forms.values()]
        hint = hint_for(
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
    # The name may fit several forms (one's title, another's key, a title used twice): the simulator
    # gives the answers to whichever of them an action shows, so a question of any of them is known.
    used = {a.get("form_definition_id") for _step, a in _actions(graph, "form")}
    if not any(form.get("id") in used for form in forms):
        found.warn(
            (*path, "name"),
            f"no action of the flow shows form `{name}`; these answers are never used.",
        )
    questions: dict[str, dict[str, Any]] = {}
    for form in forms:
        for question in form.get("questions") or []:
            if isinstance(question, dict):
                questions.setdefault(str(question.get("key")), question)
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
        hint = hint_for(
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
        hint = hint_for(
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
        hint = hint_for(
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
            hint = hint_for(
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
            hint_for(name, hooks, "Use a `webhook_key` of `spec.extension_webhooks`."),
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
    hint = hint_for(
        name, tracks, f"Tracks of this flow: {', '.join(f'`{t}`' for t in sorted(tracks))}."
    )
    found.error((*path, "name"), f"the flow has no track `{name}`.", hint)
