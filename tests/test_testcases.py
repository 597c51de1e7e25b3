"""Test-case files: schema and meaning errors with file:line:column and hints, judging, rendering."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from syncer import yamlio
from syncer.errors import ValidationError
from syncer.testcases import Review, SourceFile, compare, load, run_suite
from syncer.testcases.markdown import render_markdown, review_markdown, words
from syncer.testcases.render import render_json, render_text

ROOT = Path(__file__).resolve().parents[1]
FLOW = yamlio.load_file(ROOT / "flows" / "depression-screening" / "flow.yaml").data
PATH = "flows/depression-screening/tests/t.yaml"

PHQ9_LOW = """\
      - type: form
        name: PHQ-9
        questions:
          - {key: PHQ9_Q01, value: "0"}
          - {key: PHQ9_Q02, value: "0"}
          - {key: PHQ9_Q03, value: "0"}
          - {key: PHQ9_Q04, value: "0"}
          - {key: PHQ9_Q05, value: "0"}
          - {key: PHQ9_Q06, value: "0"}
          - {key: PHQ9_Q07, value: "0"}
          - {key: PHQ9_Q08, value: "0"}
          - {key: PHQ9_Q09, value: "0"}
"""


def _file(
    activities: str = PHQ9_LOW,
    validate: str = "      - {type: careflow, action: COMPLETE}\n",
    extra: str = "",
) -> str:
    return f"cases:\n  - title: Low\n{extra}    activities:\n{activities}    validate:\n{validate}"


def _errors(text: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load(text, PATH, "depression-screening", FLOW)
    return [str(p) for p in caught.value.problems]


def test_a_valid_file_loads_into_cases() -> None:
    loaded = load(_file(), PATH, "depression-screening", FLOW)
    assert [c.title for c in loaded.cases] == ["Low"]
    assert loaded.cases[0].case.activities[0].answers[0].key == "PHQ9_Q01"
    assert loaded.cases[0].expectations[0].line == 17


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_file(extra="    validates: []\n"), f"{PATH}:3:5: unknown field `validates` in case 1. Did you mean `validate`?"),
        ("cases:\n  - title: x\n    activities: []\n", f"{PATH}:2:5: case 1 is missing `validate`. Add `validate` (what must have happened: each entry passes when some activity of that type, name and action happened)."),
        (_file(validate="      - {type: step, name: Referral, action: COMPLETED}\n"), f"{PATH}:17:38: case 1, validate entry 1, `action` is `COMPLETED`, which is not valid here. Did you mean `COMPLETE`?"),
        (_file(validate="      - {type: stap, name: Referral, action: COMPLETE}\n"), f"{PATH}:17:10: case 1, validate entry 1, `type` is `stap`, which is not one of: step, track, careflow. Did you mean `step`?"),
        (_file(activities="      - {type: form, name: PHQ-9}\n"), f"{PATH}:4:9: case 1, activity 1 is missing `questions`."),
        (_file(activities="      - {type: form, name: PHQ-9, questions: [], after: {amount: 2, unit: days}}\n"), f"{PATH}:4:69: case 1, activity 1, `after`, `unit` is `days`, which is not one of: second, minute, hour, day, week, month, year. Did you mean `day`?"),
        ("cases: {}\n", f"{PATH}:1:1: `cases` must be a list, not a mapping. The cases, each run on its own from the start of the care flow."),
    ],
)  # fmt: skip
def test_schema_errors_are_located_and_say_what_to_do(text: str, expected: str) -> None:
    assert expected in _errors(text)


@pytest.mark.parametrize(
    ("activities", "validate", "expected"),
    [
        ("      - {type: form, name: PHQ9, questions: []}\n", None,
         "4:22: the flow has no form titled `PHQ9` (a form is named by its title or key, not the action's title). Did you mean `phq9`?"),
        ("      - {type: form, name: PHQ-9, questions: [{key: PHQ9_Q1, value: '1'}]}\n", None,
         "4:48: form `PHQ-9` has no question `PHQ9_Q1`. Did you mean `PHQ9_Q01`?"),
        ("      - {type: form, name: PHQ-9, questions: [{key: PHQ9_Q01, value: 'often'}]}\n", None,
         'question `PHQ9_Q01` takes a number: "often" is not a number.'),
        ("      - {type: form, name: PHQ-9, questions: [{key: PHQ9_Q01, value: '4'}]}\n", None,
         "question `PHQ9_Q01` has no option 4. Its options: 0 (Not at all), 1 (Several days), 2 (More than half the days), 3 (Nearly every day)."),
        ("      - {type: form, name: PHQ-9 clinician follow-up, questions: [{key: wantsReferral, value: perhaps}]}\n", None,
         'question `wantsReferral` takes a boolean: "perhaps" is not true or false (write true/false or yes/no).'),
        ("      - {type: form, name: PHQ-9, step: Repeat PHQ9, questions: []}\n", None,
         "the flow has no step `Repeat PHQ9`. Did you mean `Repeat PHQ-9`?"),
        ("      - {type: calculation, name: Calculate PHQ-9 score, data_points: [{key: PHQ9_SCOR, value: 3}]}\n", None,
         "calculation `Calculate PHQ-9 score` has no output `PHQ9_SCOR`. Did you mean `PHQ9_SCORE`?"),
        ("      - {type: calculation, name: Calculate PHQ score, data_points: []}\n", None,
         "the flow has no calculation action `Calculate PHQ score`. Did you mean `Calculate PHQ-9 score`?"),
        ("      - {type: start_track, name: Safety check}\n", None,
         "track `Safety check` has no ad hoc trigger; it is started by data_point_collected."),
        (PHQ9_LOW, "      - {type: step, name: Referal, action: COMPLETE}\n",
         "the flow has no step `Referal`. Did you mean `Referral`?"),
        (PHQ9_LOW, "      - {type: track, name: safety check, action: ACTIVATE}\n",
         "the flow has no track `safety check`. Did you mean `Safety check`?"),
        (PHQ9_LOW, "      - {type: step, name: Referral, action: REMIND}\n",
         "syncer cannot observe a step `REMIND` offline; it judges step actions ACTIVATE, COMPLETE, DISCARDED, NOT_TRIGGERED."),
    ],
)  # fmt: skip
def test_a_name_the_flow_does_not_have_is_an_error_with_a_hint(
    activities: str, validate: str | None, expected: str
) -> None:
    text = _file(activities, validate) if validate else _file(activities)
    errors = _errors(text)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith(f"{PATH}:") for e in errors)


def test_a_baseline_data_point_is_named_by_id_and_suggested_by_key() -> None:
    text = _file(
        extra="    baseline_datapoints:\n      - {definition_id: phq9.PHQ9_Q09, value: '1'}\n"
    )
    assert (
        f"{PATH}:4:10: the flow has no data point definition `phq9.PHQ9_Q09`. Did you mean `YBOLQXOlJreV` (phq9.PHQ9_Q09)?"
        in _errors(text)
    )
    bad_value = _file(
        extra="    baseline_datapoints:\n      - {definition_id: YBOLQXOlJreV, value: lots}\n"
    )
    assert any(
        'data point `phq9.PHQ9_Q09` is a number: "lots" is not a number' in e
        for e in _errors(bad_value)
    )


def test_an_unknown_checklist_is_a_warning_as_in_awells_runner() -> None:
    loaded = load(
        _file(PHQ9_LOW + "      - {type: checklist, name: Send referal}\n"),
        PATH,
        "depression-screening",
        FLOW,
    )
    assert [str(w) for w in loaded.warnings] == [
        f"{PATH}:16:27: the flow has no checklist action titled `Send referal`; this entry is never used. Did you mean `Send referral`?"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", f"{PATH}:1:1: the file is empty; a test-case file starts with `cases:`."),
        ("cases: []\ncases: []\n", f"{PATH}:2:1: "),
        ("cases: &a []\nmore: *a\n", f"{PATH}:1:8: "),
        ("cases:\n  - title: [unclosed\n", f"{PATH}:"),
    ],
)
def test_yaml_problems_are_refused_like_any_syncer_file(text: str, expected: str) -> None:
    assert any(e.startswith(expected) for e in _errors(text))


# -- judging --------------------------------------------------------------------------------------


def _suite(*texts: str, titles: tuple[str, ...] = ()) -> Any:
    files = [
        SourceFile(f"flows/depression-screening/tests/{n}.yaml", "depression-screening", t)
        for n, t in enumerate(texts)
    ]
    return run_suite({"depression-screening": FLOW}, files, titles)


def test_an_expectation_passes_when_some_event_matches() -> None:
    validate = (
        "      - {type: step, name: Self-care resources, action: COMPLETE}\n"
        "      - {type: step, name: selfCareResources, action: ACTIVATE}\n"  # a key works as well as a title
        "      - {type: step, name: Clinician follow-up, action: DISCARDED}\n"
        "      - {type: track, name: Safety check, action: NOT_TRIGGERED}\n"
        "      - {type: careflow, action: ACTIVATE}\n"
    )
    result = _suite(_file(validate=validate)).results[0]
    assert result.passed, result.failure_lines()


def test_a_failed_expectation_says_what_happened_and_why() -> None:
    validate = "      - {type: step, name: Referral, action: COMPLETE}\n      - {type: track, name: Safety check, action: ACTIVATE}\n"
    result = _suite(_file(validate=validate)).results[0]
    assert not result.passed
    referral, safety = result.verdicts
    assert referral.summary == "step *Referral* was discarded, expected completed"
    assert referral.why.startswith(
        "discarded on day 0 00:00: no transition into it was taken (from step *Clinician follow-up*, which was discarded)"
    )
    assert safety.summary == "track *Safety check* was never reached, expected activated"
    assert (
        "rule `uu2uiVY4Ft7u` does not hold: `phq9.PHQ9_Q09` is 0, not greater than or equal to 1"
        in safety.why
    )


def test_a_care_flow_that_never_completes_fails_as_in_awells_runner() -> None:
    high = PHQ9_LOW.replace('value: "0"', 'value: "3"')
    result = _suite(
        _file(high, "      - {type: step, name: Clinician follow-up, action: ACTIVATE}\n")
    ).results[0]
    assert result.verdicts[0].passed
    assert result.failures == [
        "the care flow did not complete: form *PHQ-9 clinician follow-up* (action *PHQ-9 clinician follow-up* "
        "in step *Clinician follow-up*) waits for the case, which has no form entry for it; "
        "checklist *Safety assessment* in step *Same-day safety assessment* waits for the case, which has no checklist entry for it"
    ]


def test_unused_activities_are_noted() -> None:
    extra = PHQ9_LOW + "      - {type: checklist, name: Send referral}\n"
    result = _suite(_file(extra)).results[0]
    assert result.passed
    assert result.notes == [
        "activity 2 (line 16), checklist `Send referral`, was not used: nothing in this run waited for it"
    ]


def test_titles_select_cases_and_an_unknown_title_is_a_problem() -> None:
    two = _file() + _file().removeprefix("cases:\n").replace("title: Low", "title: Low again")
    suite = _suite(two, titles=("low AGAIN", "Lwo"))
    assert [r.title for r in suite.results] == ["Low again"]
    assert [str(p) for p in suite.problems] == [
        "Lwo: no test case is titled `Lwo`. Did you mean `Low`?"
    ]


def test_a_bad_file_is_reported_and_the_others_still_run() -> None:
    suite = _suite("cases: nope\n", _file())
    assert suite.passed == 1 and len(suite.problems) == 1
    assert suite.problems[0].path == "flows/depression-screening/tests/0.yaml"


def test_tests_of_a_flow_that_is_missing() -> None:
    suite = run_suite({}, [SourceFile("flows/gone/tests/a.yaml", "gone", _file())])
    assert (
        str(suite.problems[0])
        == "flows/gone/tests/a.yaml: the tests of flow `gone` have no flow: flows/gone/flow.yaml is missing. Add the flow, or move the tests."
    )


def test_compare_names_the_cases_that_changed_outcome() -> None:
    passing = _file(validate="      - {type: step, name: Self-care resources, action: COMPLETE}\n")
    failing = _file(validate="      - {type: step, name: Self-care resources, action: DISCARDED}\n")
    changes = compare(_suite(passing), _suite(failing))
    assert [(c.title, c.before, c.after) for c in changes] == [("Low", "passes", "fails")]
    assert changes[0].details == ("step *Self-care resources* was completed, expected discarded",)
    assert compare(_suite(passing), _suite(passing)) == []
    assert [(c.before, c.after) for c in compare(_suite(passing), _suite())] == [
        ("passes", "absent")
    ]


# -- rendering ------------------------------------------------------------------------------------


def test_renderings_of_a_failure() -> None:
    failing = _file(validate="      - {type: step, name: Self-care resources, action: DISCARDED}\n")
    suite = _suite(failing)
    text = render_text(suite)
    assert "  FAIL  Low (line 2)\n        expected  step *Self-care resources* DISCARDED\n" in text
    assert (
        "day 0 00:00  step       COMPLETE      Self-care resources — its 1 action completed" in text
    )
    assert text.endswith("0 passed, 1 failed (1 case in 1 file)\n")
    markdown = render_markdown(suite)
    assert (
        "| ❌ fails | Low | `depression-screening` |" in markdown
        and "<details><summary>Timeline</summary>" in markdown
    )
    data = json.loads(render_json(suite))
    assert data["summary"] == {"cases": 1, "passed": 0, "failed": 1, "files": 1, "errors": 0}
    case = data["cases"][0]
    assert case["expectations"][0]["passed"] is False and case["careflow_completed"] is True
    assert case["timeline"][0] == {
        "at": "2024-01-01T00:00:00Z", "elapsed": "day 0 00:00", "elapsed_seconds": 0, "subject": "careflow",
        "action": "ACTIVATE", "id": "udrcCWlcnVWo", "name": "Depression screening (PHQ-9)", "key": "",
        "within": "", "reason": "the case started it",
    }  # fmt: skip


def test_the_examples_are_documented_in_the_schema() -> None:
    schema = json.loads((ROOT / "schemas" / "careflow-tests.v1.schema.json").read_text("utf-8"))
    assert schema["$defs"]["activity"]["properties"]["type"]["enum"] == [
        "form", "checklist", "calculation", "extension", "api_call", "webhook", "start_track",
    ]  # fmt: skip
    example = textwrap.dedent(_file())
    assert load(example, PATH, "depression-screening", FLOW).cases


def test_user_text_cannot_inject_markdown_or_html() -> None:
    hostile = "Low <img src=x onerror=alert(1)> [click](https://evil.example) @org/team `x` *y*"
    failing = _file(
        validate="      - {type: step, name: Self-care resources, action: DISCARDED}\n"
    ).replace("title: Low", f"title: '{hostile}'")
    suite = _suite(failing)
    review = Review("main", suite, compare(_suite(), suite))
    for text in (render_markdown(suite), review_markdown(review)):
        assert "<img" not in text and not re.search(r"(?<!\\)\]\(https://evil", text)
        assert "@\u2060org" in text  # never notifies anyone
    assert words("step *a [b](c)* and `d` ") == "step *a \\[b\\](c)* and `d`"


def test_a_review_fits_a_github_comment() -> None:
    failing = _file(validate="      - {type: step, name: Self-care resources, action: DISCARDED}\n")
    many = "cases:\n" + "".join(
        failing.removeprefix("cases:\n").replace("title: Low", f"title: Case {n} " + "x" * 200)
        for n in range(80)
    )
    suite = _suite(many)
    review = Review("main", suite, compare(_suite(), suite))
    text = review_markdown(review, limit=6_000)
    assert len(text) <= 6_000
    assert "… and 75 more (run `syncer test`)" in text or "cut off here" in text


def test_a_name_that_fits_two_forms_knows_the_questions_of_both() -> None:
    """The simulator answers whichever form an action shows; a form named by another's key is one of them
    (found by the property test: a question of the second form was refused as unknown)."""
    import copy

    flow = copy.deepcopy(FLOW)
    phq9 = next(f for f in flow["spec"]["forms"] if f["title"] == "PHQ-9")
    other = copy.deepcopy(phq9)
    other.update(id="other-form", key="PHQ-9", title="Another form")  # its key is PHQ-9's title
    other["questions"] = [{**phq9["questions"][0], "id": "other-q", "key": "OTHER_Q"}]
    flow["spec"]["forms"].append(other)
    answers = PHQ9_LOW + '          - {key: OTHER_Q, value: "0"}\n'
    loaded = load(_file(answers), PATH, "depression-screening", flow)
    assert [a.key for a in loaded.cases[0].case.activities[0].answers][-1] == "OTHER_Q"
    with pytest.raises(ValidationError, match="has no question `NOPE`"):
        load(_file(PHQ9_LOW + '          - {key: NOPE, value: "0"}\n'), PATH, "x", flow)
