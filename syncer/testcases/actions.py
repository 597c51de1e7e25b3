"""A step's actions, one after the other: what completes on its own and what waits for the case. Pure.

- ``form``: waits for the case's form entry (matched by the form's title or key); its answers are
  collected in the form's question order, each converted to the question's value type, and an answer to
  a question whose visibility rule does not hold is ignored, as the patient would never see it;
- ``checklist``: waits for the case's checklist entry (matched by the action's title);
- ``calculation``: computes its outputs (``syncer.simulate.calculations``), or takes them from the case;
- ``plugin`` (extension) and ``api_call``/``api_call_graphql``: cannot run offline; they complete and
  collect the data points the case gives for them (none otherwise);
- ``message``, ``clinical_note``, ``push_to_emr``: complete on their own.

An entry's ``after`` makes the case answer that long after the action became active.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import clock, triggers
from .calculations import REGISTRY, output_id
from .events import ACTIVATE, COMPLETE, COMPUTED, IS_WAITING_ON, SEND, SKIPPED, SUBMITTED
from .graph import Step
from .inputs import API_CALL, CALCULATION, CHECKLIST, EXTENSION, FORM, Activity
from .values import shown

if TYPE_CHECKING:
    from .engine import Engine

_WAITS = {"form": FORM, "checklist": CHECKLIST}
_OUTPUTS = {
    "calculation": CALCULATION,
    "plugin": EXTENSION,
    "api_call": API_CALL,
    "api_call_graphql": API_CALL,
}


def advance(engine: Engine, step: Step) -> None:
    """Run the step's actions from the next one on, until one waits; complete the step after the last."""
    while engine.next_action[step.id] < len(step.actions):
        index = engine.next_action[step.id]
        if not _start(engine, step, index):
            return
        engine.next_action[step.id] = index + 1
    engine.complete_step(step)


def _start(engine: Engine, step: Step, index: int) -> bool:
    """Activate one action; True when it completed at once, False when it waits."""
    action = step.actions[index]
    kind, title = str(action.get("type", "")), str(action.get("title", ""))
    where = f"action {index + 1} of {len(step.actions)} in step *{step.title}*"
    engine.emit("action", ACTIVATE, str(action.get("id", "")), title, where, within=step.title)
    if kind in _WAITS:
        return _wait_for_case(engine, step, index, kind)
    if kind in _OUTPUTS:
        entry = _output_entry(engine, step, action, kind)
        if entry is not None and entry.after is not None and entry.after.amount > 0:
            _schedule_answer(engine, step, index, entry)
            return False
        _outputs(engine, step, action, kind, entry)
        return True
    if kind == "message":
        engine.emit(
            "action",
            SEND,
            str(action.get("id", "")),
            title,
            "a message is sent on its own",
            within=step.title,
        )
    _done(engine, step, action, "it completes on its own")
    return True


def _done(engine: Engine, step: Step, action: dict[str, Any], why: str) -> None:
    engine.emit(
        "action",
        COMPLETE,
        str(action.get("id", "")),
        str(action.get("title", "")),
        why,
        within=step.title,
    )


def _form(engine: Engine, action: dict[str, Any]) -> dict[str, Any]:
    return engine.graph.forms.get(str(action.get("form_definition_id", "")), {})


def _wait_for_case(engine: Engine, step: Step, index: int, kind: str) -> bool:
    action = step.actions[index]
    title = str(action.get("title", ""))
    if kind == "form":
        form = _form(engine, action)
        names = {str(form.get("title", "")), str(form.get("key", ""))}
        what = f"form *{form.get('title', title)}* (action *{title}* in step *{step.title}*)"
    else:
        names = {title}
        what = f"checklist *{title}* in step *{step.title}*"
    entry = engine.match(_WAITS[kind], names, step, title)
    if entry is None:
        text = f"{what} waits for the case, which has no {kind} entry for it"
        engine.waiting[(step.id, index)] = text
        engine.emit(
            "action", IS_WAITING_ON, str(action.get("id", "")), title, text, within=step.title
        )
        return False
    _schedule_answer(engine, step, index, entry)
    return False


def _schedule_answer(engine: Engine, step: Step, index: int, entry: Activity) -> None:
    when = clock.later(engine.moment, entry.after)
    engine.schedule(when, "answer", step.id, detail=(index, entry))


def answered(engine: Engine, step_id: str, detail: tuple[int, Activity]) -> None:
    """The case answers a waiting action (``detail``: the action's index and the case's entry)."""
    index, entry = detail
    step = engine.graph.steps[step_id]
    action = step.actions[index]
    kind = str(action.get("type", ""))
    late = f" {entry.after} after it became active" if entry.after else ""
    if kind == "form":
        _submit(engine, step, action, entry)
        _done(engine, step, action, f"the case answered it{late}")
    elif kind == "checklist":
        _done(engine, step, action, f"the case ticked it{late}")
    else:
        _outputs(engine, step, action, kind, entry)
    engine.next_action[step.id] = index + 1
    advance(engine, step)


def _submit(engine: Engine, step: Step, action: dict[str, Any], entry: Activity) -> None:
    """Store a form's answers in question order, then fire the triggers: a form is submitted whole."""
    form = _form(engine, action)
    answers = {answer.key: answer.value for answer in entry.answers}
    title = str(form.get("title", action.get("title", "")))
    text = f"form *{title}*: {len(answers)} answers"
    engine.emit(
        "action",
        SUBMITTED,
        str(action.get("id", "")),
        str(action.get("title", "")),
        text,
        within=step.title,
    )
    stored = []
    for question in form.get("questions") or []:
        key, point = str(question.get("key", "")), str(question.get("id", ""))
        reason = f"answer to `{key}` in form *{title}*"
        if (
            key in answers
            and _visible(engine, question, key)
            and engine.record(point, answers[key], reason)
        ):
            stored.append(point)
    for point in stored:
        triggers.data_point_collected(engine, point)


def _visible(engine: Engine, question: dict[str, Any], key: str) -> bool:
    """Whether the question's visibility rule (on the answers so far) lets the patient see it."""
    rule = question.get("rule_definition_id")
    if not rule:
        return True
    verdict = engine.judge(str(rule))
    if not verdict.holds:
        why = f"question `{key}` is hidden, so its answer is ignored: {verdict.because}"
        engine.emit("data_point", SKIPPED, str(question.get("id", "")), key, why)
    return verdict.holds


def _output_entry(engine: Engine, step: Step, action: dict[str, Any], kind: str) -> Activity | None:
    title = str(action.get("title", ""))
    names = {title}
    if kind == "calculation":
        names.add(str(action.get("calculation_definition_id", "")))
    if kind == "plugin":
        names.add(str(action.get("plugin_action_key", "")))
        extension = str(action.get("plugin_key", ""))
        return engine.match(_OUTPUTS[kind], names, step, title, extension)
    return engine.match(_OUTPUTS[kind], names, step, title)


def _outputs(
    engine: Engine, step: Step, action: dict[str, Any], kind: str, entry: Activity | None
) -> None:
    if kind == "calculation":
        _calculate(engine, step, action, entry)
        return
    mapping = _mapping(action, kind)
    given = {answer.key: answer.value for answer in entry.answers} if entry else {}
    rows: list[tuple[str, Any, str]] = []
    for key, value in given.items():
        point = mapping.get(key, key if key in engine.graph.data_points else None)
        if point is None:
            engine.problem(
                f"action *{action.get('title')}* has no output `{key}` (it has: {', '.join(sorted(mapping)) or 'none'})"
            )
            continue
        rows.append((point, value, f"output `{key}` of *{action.get('title')}*, given by the case"))
    engine.collect_all(rows)
    why = (
        "the case gave its outputs"
        if given
        else "syncer cannot run it offline; the case gives no outputs for it"
    )
    _done(engine, step, action, why)


def _mapping(action: dict[str, Any], kind: str) -> dict[str, str]:
    """Output key -> data point id, for an extension action or an API call."""
    if kind == "plugin":
        rows = action.get("extension_data_point_mappings") or []
        return {
            str(r.get("extension_data_point_key")): str(r.get("data_point_definition_id"))
            for r in rows
            if isinstance(r, dict)
        }
    call = action.get("api_call")
    rows = (call.get("mappings") if isinstance(call, dict) else None) or []
    return {
        str(r.get("response_key")): str(r.get("data_point_definition_id"))
        for r in rows
        if isinstance(r, dict)
    }


def _calculate(engine: Engine, step: Step, action: dict[str, Any], entry: Activity | None) -> None:
    calculation = str(action.get("calculation_definition_id", ""))
    title = str(action.get("title", ""))
    outputs, how = _outputs_of(engine, action, entry)
    rows = [
        (
            key if key in engine.graph.data_points else output_id(calculation, key),
            value,
            f"output of *{title}*",
        )
        for key, value in outputs.items()
    ]
    engine.collect_all(rows)
    summary = ", ".join(f"{key} = {shown(value)}" for key, value in outputs.items())
    text = f"{summary} ({how})" if summary else how
    engine.emit("action", COMPUTED, str(action.get("id", "")), title, text, within=step.title)
    _done(engine, step, action, "a calculation completes on its own")


def _outputs_of(
    engine: Engine, action: dict[str, Any], entry: Activity | None
) -> tuple[dict[str, Any], str]:
    """A calculation's outputs and how they came about: given by the case, computed, or neither."""
    calculation = str(action.get("calculation_definition_id", ""))
    if entry is not None:
        return {a.key: a.value for a in entry.answers}, "given by the case"
    if calculation in REGISTRY:
        rows = [r for r in action.get("calculation_inputs") or [] if isinstance(r, dict)]
        inputs = {
            str(r.get("calculation_input_id")): engine.values.get(
                str(r.get("data_point_definition_id"))
            )
            for r in rows
        }
        outcome = REGISTRY[calculation](inputs)
        return outcome.outputs, outcome.missing or "computed by syncer"
    title = str(action.get("title", ""))
    how = f"syncer cannot compute `{calculation}`; give its outputs in the case (an activity of type calculation named *{title}*)"
    engine.note(f"calculation *{title}* (`{calculation}`) has no outputs: {how}")
    return {}, how
