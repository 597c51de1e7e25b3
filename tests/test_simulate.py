"""The simulator on small flows: transitions, discarding, tracks, actions, calculations and waiting.

Timers and data point triggers have their own tables in ``test_simulate_timers.py``.
"""

from __future__ import annotations

from typing import Any

from syncer.testcases import Activity, Answer, Delay, Fate, Run, simulate

from .simflows import (
    case,
    chain,
    checklist,
    condition,
    flow,
    form,
    form_action,
    go,
    point,
    rule,
    step,
    tick,
    track,
)


def _fates(run: Run) -> dict[str, str]:
    return {k: v.value for k, v in run.steps.items()}


def _actions(run: Run, component: str) -> list[str]:
    return [e.action for e in run.of(component)]


def _branching(default_rule: str | None = None) -> dict[str, Any]:
    """start -> ask -> (high: score >= 10) | (low: default); high -> referral -> end; low -> end."""
    survey, points = form("survey", ("score", "number"))
    return flow(
        [
            track(
                "main",
                [step("ask", form_action("ask-form", "survey")), step("high"), step("referral"), step("low")],
                [
                    go("t0", "start", "ask", track="main"),
                    go("t1", "ask", "high", rule_id="is-high"),
                    go("t2", "ask", "low", default=True, rule_id=default_rule),
                    go("t3", "high", "referral"),
                    go("t4", "referral", "end", track="main"),
                    go("t5", "low", "end", track="main"),
                ],
            )
        ],
        forms=[(survey, points)],
        rules=[rule("is-high", condition("survey-score", "is_greater_than_or_equal_to", "10")),
               rule("never", condition("survey-score", "is_less_than", "0"))],
    )  # fmt: skip


def test_a_rule_that_holds_takes_its_branch_and_discards_the_default() -> None:
    run = simulate(_branching(), case(Activity(0, "form", "survey", (Answer("score", "12"),))))
    assert _fates(run) == {
        "ask": "completed",
        "high": "completed",
        "referral": "completed",
        "low": "discarded",
    }
    assert run.completed
    low = run.of("low")[0]
    assert low.action == "DISCARDED" and "another transition was taken" in low.reason


def test_the_default_is_taken_when_no_rule_holds_and_discarding_cascades() -> None:
    run = simulate(_branching(), case(Activity(0, "form", "survey", (Answer("score", "3"),))))
    assert _fates(run) == {
        "ask": "completed",
        "high": "discarded",
        "referral": "discarded",
        "low": "completed",
    }
    referral = run.of("referral")[0]
    assert "from step *high*, which was discarded" in referral.reason
    high = run.of("high")[0]
    assert "`survey.score` is 3, not greater than or equal to 10" in high.reason


def test_a_default_with_a_rule_that_fails_leaves_the_track_without_an_end() -> None:
    run = simulate(
        _branching(default_rule="never"),
        case(Activity(0, "form", "survey", (Answer("score", "3"),))),
    )
    assert not run.completed
    assert run.tracks["main"] is Fate.ACTIVE
    assert [w.what for w in run.waiting] == [
        "track *main* never reached its end: step *ask* completed and none of its transitions was taken"
    ]


def test_every_transition_whose_rule_holds_is_taken_in_parallel() -> None:
    document = flow(
        [
            track(
                "main",
                [step("a"), step("b", checklist("b-list")), step("c")],
                [go("t0", "start", "a", track="main"), go("t1", "a", "b"), go("t2", "a", "c"),
                 go("t3", "b", "end", track="main"), go("t4", "c", "end", track="main")],
            )
        ]
    )  # fmt: skip
    run = simulate(document, case(tick(0, "b-list", after=Delay(2, "day"))))
    assert _fates(run) == {"a": "completed", "b": "completed", "c": "completed"}
    # The end was reached through c at once, but the track waits for b to complete on day 2.
    track_events = [(e.at, e.action) for e in run.of("main")]
    assert track_events == [
        (0, "ACTIVATE"),
        (0, "END_REACHED"),
        (2 * 86400, "END_REACHED"),
        (2 * 86400, "COMPLETE"),
    ]


def test_a_step_runs_once_when_two_ways_lead_into_it() -> None:
    document = flow(
        [
            track(
                "main",
                [step("a"), step("b"), step("merge")],
                [go("t0", "start", "a", track="main"), go("t1", "a", "b"), go("t2", "a", "merge"),
                 go("t3", "b", "merge"), go("t4", "merge", "end", track="main")],
            )
        ]
    )  # fmt: skip
    run = simulate(document, case())
    assert _actions(run, "merge") == ["ACTIVATE", "COMPLETE", "NOT_ACTIVATED"]
    assert run.completed


def test_a_merge_step_is_discarded_only_when_every_way_in_is_dead() -> None:
    document = flow(
        [
            track(
                "main",
                [step("a"), step("b"), step("merge"), step("other")],
                [go("t0", "start", "a", track="main"), go("t1", "a", "merge", rule_id="no"),
                 go("t2", "a", "b"), go("t3", "b", "merge", rule_id="no"), go("t4", "b", "other"),
                 go("t5", "other", "end", track="main"), go("t6", "merge", "end", track="main")],
            )
        ],
        points=[point("x")],
        rules=[rule("no", condition("x", "is_not_empty"))],
    )  # fmt: skip
    run = simulate(document, case())
    merge = run.of("merge")
    assert [e.action for e in merge] == ["DISCARDED"]
    assert merge[0].reason.count("rule `no` does not hold") == 2


def test_every_action_type_runs_and_waiting_ones_wait_for_the_case() -> None:
    survey, points = form("survey", ("q", "string"), title="Survey")
    actions = [
        {"id": "msg", "type": "message", "title": "Hello", "message_definition_id": "m1", "stakeholder_definition_ids": [], "location_definition_ids": []},
        {"id": "note", "type": "clinical_note", "title": "Note", "clinical_note_definition_id": "n1", "stakeholder_definition_ids": [], "location_definition_ids": []},
        {"id": "emr", "type": "push_to_emr", "title": "EMR", "stakeholder_definition_ids": [], "location_definition_ids": []},
        form_action("fill", "survey", "Fill in"),
        checklist("tick", "Tick it"),
    ]  # fmt: skip
    document = flow(
        [
            track(
                "main",
                [step("s", *actions)],
                [go("t0", "start", "s", track="main"), go("t1", "s", "end", track="main")],
            )
        ],
        forms=[(survey, points)],
    )
    stuck = simulate(document, case())
    assert not stuck.completed
    assert (
        stuck.waiting[0].what
        == "form *Survey* (action *Fill in* in step *s*) waits for the case, which has no form entry for it"
    )
    assert _actions(stuck, "msg") == ["ACTIVATE", "SEND", "COMPLETE"]
    assert _actions(stuck, "tick") == []  # actions run one after the other
    done = simulate(
        document, case(Activity(0, "form", "survey", (Answer("q", "x"),)), tick(1, "Tick it"))
    )
    assert done.completed and done.used_activities == {0, 1}


def test_a_form_is_matched_by_its_title_or_key_and_narrowed_by_step() -> None:
    survey, points = form("survey-key", ("q", "number"), title="Survey title")
    document = flow(
        [
            track(
                "main",
                [
                    step("first", form_action("f1", "survey-key")),
                    step("second", form_action("f2", "survey-key")),
                ],
                [
                    go("t0", "start", "first", track="main"),
                    go("t1", "first", "second"),
                    go("t2", "second", "end", track="main"),
                ],
            )
        ],
        forms=[(survey, points)],
    )
    run = simulate(
        document,
        case(
            Activity(0, "form", "Survey title", (Answer("q", "1"),)),
            Activity(1, "form", "survey-key", (Answer("q", "2"),), step="second"),
        ),
    )
    answers = [e.reason for e in run.events if e.subject == "data_point"]
    assert answers == [
        "answer to `q` in form *Survey title*: 1",
        "answer to `q` in form *Survey title*: 2",
    ]


def test_a_hidden_question_is_not_collected() -> None:
    survey, points = form("survey", ("wants", "boolean"), ("note", "string"))
    survey["questions"][1]["rule_definition_id"] = "shown"
    document = flow(
        [
            track(
                "main",
                [step("s", form_action("f", "survey"))],
                [go("t0", "start", "s", track="main"), go("t1", "s", "end", track="main")],
            )
        ],
        forms=[(survey, points)],
        rules=[rule("shown", condition("survey-wants", "is_true"))],
    )
    shown = simulate(
        document,
        case(Activity(0, "form", "survey", (Answer("wants", "yes"), Answer("note", "hi")))),
    )
    assert [e.action for e in shown.of("survey-note")] == ["COLLECTED"]
    hidden = simulate(
        document, case(Activity(0, "form", "survey", (Answer("wants", "no"), Answer("note", "hi"))))
    )
    assert [e.action for e in hidden.of("survey-note")] == ["SKIPPED"]


def _phq9_flow(calculation: str = "phq_9") -> dict[str, Any]:
    items = [f"PHQ9_Q0{n}" for n in range(1, 10)]
    phq, points = form("phq9", *((item, "number") for item in items))
    calc = {
        "id": "calc",
        "type": "calculation",
        "title": "Score",
        "calculation_definition_id": calculation,
        "calculation_inputs": [
            {"calculation_input_id": i, "data_point_definition_id": f"phq9-{i}"} for i in items
        ],
        "stakeholder_definition_ids": [],
        "location_definition_ids": [],
    }
    score = point(f"{calculation}.PHQ9_SCORE", "number", "calculation")
    return flow(
        [track("main", [step("s", form_action("f", "phq9"), calc), step("high")],
               [go("t0", "start", "s", track="main"), go("t1", "s", "high", rule_id="high"),
                go("t2", "s", "end", default=True, track="main"), go("t3", "high", "end", track="main")])],
        forms=[(phq, points)],
        points=[score],
        rules=[rule("high", condition(f"{calculation}.PHQ9_SCORE", "is_greater_than_or_equal_to", "10"))],
    )  # fmt: skip


def _phq9_answers(*values: str) -> Activity:
    return Activity(
        0, "form", "phq9", tuple(Answer(f"PHQ9_Q0{n}", v) for n, v in enumerate(values, 1))
    )


def test_phq9_is_computed_from_its_nine_items() -> None:
    run = simulate(_phq9_flow(), case(_phq9_answers("2", "2", "1", "1", "1", "1", "1", "1", "0")))
    computed = next(e for e in run.of("calc") if e.action == "COMPUTED")
    assert (
        computed.reason == 'PHQ9_SCORE = 10, PHQ9_INTERPRETATION = "Moderate" (computed by syncer)'
    )
    assert run.steps["high"] is Fate.COMPLETED


def test_a_partial_phq9_has_no_score() -> None:
    run = simulate(_phq9_flow(), case(_phq9_answers("3", "3", "3")))
    computed = next(e for e in run.of("calc") if e.action == "COMPUTED")
    assert "no answer for PHQ9_Q04" in computed.reason
    assert run.steps["high"] is Fate.DISCARDED
    assert "`phq_9.PHQ9_SCORE` has no value" in run.of("high")[0].reason


def test_a_case_gives_the_outputs_of_a_calculation_syncer_cannot_compute() -> None:
    document = _phq9_flow("mystery_score")
    without = simulate(document, case(_phq9_answers(*"000000000")))
    assert any("syncer cannot compute `mystery_score`" in n for n in without.notes)
    given = Activity(1, "calculation", "Score", (Answer("PHQ9_SCORE", 15),))
    run = simulate(document, case(_phq9_answers(*"000000000"), given))
    assert run.steps["high"] is Fate.COMPLETED


def test_an_extension_action_collects_the_data_points_the_case_gives() -> None:
    plugin = {
        "id": "ext", "type": "plugin", "title": "Get patient", "plugin_key": "elation", "plugin_action_key": "getPatient",
        "plugin_fields": [], "extension_data_points": [{"key": "age", "value_type": "number"}],
        "extension_data_point_mappings": [{"id": "m", "extension_data_point_key": "age", "data_point_definition_id": "age"}],
        "stakeholder_definition_ids": [], "location_definition_ids": [],
    }  # fmt: skip
    document = flow(
        [track("main", [step("s", plugin), step("adult")],
               [go("t0", "start", "s", track="main"), go("t1", "s", "adult", rule_id="adult"),
                go("t2", "s", "end", default=True, track="main"), go("t3", "adult", "end", track="main")])],
        points=[point("age", category="extension_action")],
        rules=[rule("adult", condition("age", "is_greater_than_or_equal_to", "18"))],
    )  # fmt: skip
    assert simulate(document, case()).steps["adult"] is Fate.DISCARDED
    entry = Activity(0, "extension", "getPatient", (Answer("age", "42"),), extension="elation")
    assert simulate(document, case(entry)).steps["adult"] is Fate.COMPLETED
    wrong = Activity(0, "extension", "getPatient", (Answer("age", "42"),), extension="awell")
    assert simulate(document, case(wrong)).steps["adult"] is Fate.DISCARDED


def test_a_value_that_does_not_fit_is_a_problem_of_the_run() -> None:
    run = simulate(_branching(), case(Activity(0, "form", "survey", (Answer("score", "twelve"),))))
    assert run.problems == ['data point `survey.score`: "twelve" is not a number']


def test_a_flow_without_tracks_completes_at_once() -> None:
    document = flow([chain("main", "s")], triggers=[])
    run = simulate(document, case())
    assert run.completed and run.events[-1].reason == "no track was started"
    assert run.steps == {"s": Fate.NOT_REACHED}
