"""Test results for a terminal (text) and a machine (JSON); Markdown is in ``testcases.markdown``. Pure.

A passing case is one line. A failing case says what was expected, what happened instead and why, and
then the whole timeline that led there, each event with its virtual time and its reason.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import Problem
from .clock import elapsed, iso
from .events import Event, Fate
from .judge import CaseResult
from .suite import Review, Suite

_SUBJECTS = {"careflow": "care flow", "data_point": "data point"}


def summary(suite: Suite) -> str:
    """``2 passed, 1 failed (3 cases in 2 files)``, with bad files counted."""
    cases = len(suite.results)
    text = f"{suite.passed} passed, {suite.failed} failed ({cases} case{'' if cases == 1 else 's'} in {_files(len(suite.files))})"
    bad = len({p.path for p in suite.problems})
    return text + (f"; {_files(bad)} could not be used" if bad else "")


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def event_line(event: Event) -> str:
    """One timeline line: when, what, which, why."""
    subject = _SUBJECTS.get(event.subject, event.subject)
    reason = f" — {event.reason}" if event.reason else ""
    return f"{elapsed(event.at):>12}  {subject:<10} {event.action:<13} {event.name}{reason}"


# -- text ------------------------------------------------------------------------------------------


def render_findings(suite: Suite) -> str:
    """The problems and warnings of the test files, one per line (for stderr)."""
    lines = [f"error: {p}" for p in suite.problems] + [f"warning: {w}" for w in suite.warnings]
    return "".join(f"{line}\n" for line in lines)


def render_text(suite: Suite) -> str:
    """Every case, passing ones in a line, failing ones with expectations, reasons and timeline."""
    lines: list[str] = []
    current = None
    for result in suite.results:
        if result.file != current:
            current = result.file
            lines.append(result.file)
        lines += _text_case(result)
    lines.append(summary(suite))
    return "\n".join(lines) + "\n"


def _text_case(result: CaseResult) -> list[str]:
    if result.passed:
        return [f"  PASS  {result.title}", *_remarks(result)]
    where = f" (line {result.line})" if result.line else ""
    lines = [f"  FAIL  {result.title}{where}"]
    for verdict in result.verdicts:
        if not verdict.passed:
            lines.append(f"        expected  {verdict.expectation}")
            lines.append(f"        instead   {verdict.summary}")
            if verdict.why:
                lines.append(f"                  {verdict.why}")
    for failure in result.failures:
        lines.append(f"        and       {failure}")
    lines += _remarks(result)
    lines.append("        timeline")
    lines += [f"        {event_line(e)}" for e in result.run.events]
    return lines


def _remarks(result: CaseResult) -> list[str]:
    return [f"        warning: {w}" for w in result.warnings] + [
        f"        note: {n}" for n in result.notes
    ]


# -- JSON ------------------------------------------------------------------------------------------


def _problem(problem: Problem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
        "hint": problem.hint,
    }


def _event(event: Event) -> dict[str, Any]:
    return {
        "at": iso(event.at),
        "elapsed": elapsed(event.at),
        "elapsed_seconds": event.at,
        "subject": event.subject,
        "action": event.action,
        "id": event.id,
        "name": event.name,
        "key": event.key,
        "within": event.within,
        "reason": event.reason,
    }


def case_json(result: CaseResult) -> dict[str, Any]:
    return {
        "title": result.title,
        "flow": result.flow,
        "file": result.file,
        "line": result.line,
        "passed": result.passed,
        "expectations": [
            {
                "type": v.expectation.type,
                "name": v.expectation.name,
                "action": v.expectation.action,
                "line": v.expectation.line,
                "passed": v.passed,
                "summary": v.summary,
                "why": v.why,
            }
            for v in result.verdicts
        ],
        "failures": result.failures,
        "warnings": result.warnings,
        "notes": result.notes,
        "careflow_completed": result.run.completed,
        "steps": {k: v.value for k, v in result.run.steps.items() if v is not Fate.NOT_REACHED},
        "timeline": [_event(e) for e in result.run.events],
    }


def render_json(suite: Suite) -> str:
    data = {
        "summary": {
            "cases": len(suite.results),
            "passed": suite.passed,
            "failed": suite.failed,
            "files": len(suite.files),
            "errors": len(suite.problems),
        },
        "problems": [_problem(p) for p in suite.problems],
        "warnings": [_problem(p) for p in suite.warnings],
        "cases": [case_json(r) for r in suite.results],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def review_text(review: Review) -> str:
    """The pull request's test cases for a terminal: what changed outcome since the base."""
    head = review.head
    lines = [f"Care-flow test cases, compared with {review.base_ref}"]
    if not head.results and not head.problems:
        return "\n".join([*lines, "  no test cases here"]) + "\n"
    lines.append(f"  {summary(head)}; {len(review.changes)} changed outcome")
    if review.base_problem:
        lines.append(f"  note: {review.base_problem}")
    for change in review.changes:
        before = "new" if change.before == "absent" else f"{change.before} on {review.base_ref}"
        after = "removed here" if change.after == "absent" else f"{change.after} here"
        lines.append(f"  {change.title} ({change.flow}): {before}, {after}")
        for detail, reason in zip(change.details, change.reasons, strict=False):
            lines.append(f"      {detail}")
            lines += [f"        {reason}"] if reason else []
    for result in review.still_failing:
        lines.append(
            f"  still failing: {result.title} ({result.flow}): {result.failure_lines()[0]}"
        )
    lines += [f"  error: {p}" for p in head.problems]
    return "\n".join(lines) + "\n"
