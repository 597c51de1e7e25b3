"""Properties of test-case files and judging over generated flows and cases.

- a case written as YAML (with names that are hard for YAML) loads back as the same case;
- the judge agrees with the simulator: an expectation built from a step's fate passes, its opposite fails;
- a simulation is deterministic.
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from syncer import yamlio
from syncer.testcases import Activity, Answer, Case, Fate, load, simulate
from syncer.testcases.cases import CaseDefinition, Expectation
from syncer.testcases.graph import build
from syncer.testcases.judge import judge

from .strategies import FLOW_SETTINGS, careflows
from .test_simulate_properties import flows_and_cases

SMOKE = settings(FLOW_SETTINGS, max_examples=30)


@st.composite
def written_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Case, list[dict[str, str]]]:
    """A flow, and a case over its real names with answers its questions accept."""
    document = draw(careflows())
    spec = document["spec"]
    forms = [
        f
        for f in spec["forms"]
        if f["title"].strip() and [g["title"] for g in spec["forms"]].count(f["title"]) == 1
    ]
    activities: list[Activity] = []
    for form in forms:
        answers = []
        for question in form["questions"]:
            options = [o["value"] for o in question["options"]]
            value = draw(st.sampled_from(options)) if options else str(draw(st.integers(-9, 99)))
            answers.append(Answer(question["key"], value))
        keys = [a.key for a in answers]
        answers = [a for a in answers if keys.count(a.key) == 1 and a.key]
        activities.append(Activity(len(activities), "form", form["title"], tuple(answers)))
    steps = [s for t in spec["tracks"] for s in t["steps"] if s["title"].strip()]
    validate = [
        {
            "type": "step",
            "name": s["title"],
            "action": draw(st.sampled_from(["ACTIVATE", "COMPLETE", "DISCARDED", "NOT_TRIGGERED"])),
        }
        for s in steps
    ]
    return document, Case(draw(st.text(min_size=1, max_size=20)), (), tuple(activities)), validate


def _as_yaml(case: Case, validate: list[dict[str, str]]) -> str:
    data = {
        "cases": [
            {
                "title": case.title,
                "activities": [
                    {
                        "type": a.type,
                        "name": a.name,
                        "questions": [{"key": x.key, "value": x.value} for x in a.answers],
                    }
                    for a in case.activities
                ],
                "validate": validate,
            }
        ]
    }
    return yamlio.dump(data)


@SMOKE
@given(written_cases())
def test_a_written_case_loads_back_as_the_same_case(
    drawn: tuple[dict[str, Any], Case, list[dict[str, str]]],
) -> None:
    document, case, validate = drawn
    loaded = load(_as_yaml(case, validate), "flows/x/tests/generated.yaml", "x", document)
    (definition,) = loaded.cases
    assert definition.case == case
    assert [(e.type, e.name, e.action) for e in definition.expectations] == [
        (v["type"], v["name"], v["action"]) for v in validate
    ]


_PASSES = {
    Fate.COMPLETED: {
        "ACTIVATE": True,
        "COMPLETE": True,
        "DISCARDED": False,
        "NOT_TRIGGERED": False,
    },
    Fate.ACTIVE: {"ACTIVATE": True, "COMPLETE": False, "DISCARDED": False, "NOT_TRIGGERED": False},
    Fate.DISCARDED: {
        "ACTIVATE": False,
        "COMPLETE": False,
        "DISCARDED": True,
        "NOT_TRIGGERED": True,
    },
    Fate.NOT_REACHED: {
        "ACTIVATE": False,
        "COMPLETE": False,
        "DISCARDED": False,
        "NOT_TRIGGERED": True,
    },
}


@SMOKE
@given(flows_and_cases(answer_everything=False))
def test_the_judge_agrees_with_the_simulator(drawn: tuple[dict[str, Any], Case]) -> None:
    document, case = drawn
    graph = build(document)
    run = simulate(graph, case)
    names = [s.title for s in graph.steps.values()] + [s.key for s in graph.steps.values()]
    unique = [s for s in graph.steps.values() if names.count(s.title) == 1]
    assume(unique)
    expected = [
        (s, action, passes) for s in unique for action, passes in _PASSES[run.steps[s.id]].items()
    ]
    expectations = tuple(Expectation("step", action, s.title) for s, action, _passes in expected)
    result = judge(CaseDefinition("c", "", case, expectations), run, graph, "f.yaml", "x")
    for verdict, (_step, _action, passes) in zip(result.verdicts, expected, strict=True):
        assert verdict.passed is passes, verdict
    assert result.passed is (
        all(p for _s, _a, p in expected) and run.completed and not run.problems
    )


@SMOKE
@given(flows_and_cases(answer_everything=False))
def test_a_simulation_is_deterministic(drawn: tuple[dict[str, Any], Case]) -> None:
    document, case = drawn
    first, second = simulate(document, case), simulate(document, case)
    assert first.events == second.events
    assert first.steps == second.steps and first.waiting == second.waiting
