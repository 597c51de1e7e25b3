"""Test results in Markdown: ``syncer test --output markdown``, and the pull-request report's section
on the cases whose outcome changed between the base and the branch. Pure.

Everything in a case file is untrusted (titles, names, values reach the text), so every piece passes
through ``report.safe_text``: our sentences mark names as *emphasis* and ids and values as `code`, and
each part is escaped on its own, so that no title can open a link, an HTML tag or a fence.
"""

from __future__ import annotations

import re

from ..errors import Problem
from ..report.safe_text import code_span, flatten, md
from .judge import CaseResult
from .render import event_line, summary
from .suite import OutcomeChange, Review, Suite

TESTS_MARKER = "<!-- syncer-report:tests -->"
"""Identifies the pull-request comment that carries the test cases' outcomes."""
SHOWN = 50  # cases listed per section of a pull-request comment; the rest are counted
_LONG = 2000
GITHUB_LIMIT = 65536


def words(text: str) -> str:
    """One of syncer's sentences as Markdown: `code` parts as code spans, *name* parts emphasised,
    everything escaped."""
    parts = flatten(text, _LONG).split("`")
    return "".join(code_span(p, _LONG) if i % 2 else _emphasis(p) for i, p in enumerate(parts))


def _emphasis(text: str) -> str:
    pieces = text.split("*")
    return "".join(
        f"*{_kept(p)}*" if i % 2 and p.strip() else _kept(p) for i, p in enumerate(pieces)
    )


def _kept(text: str) -> str:
    """``md`` with the surrounding spaces kept (it trims them)."""
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{' ' if lead else ''}{md(text, _LONG)}{' ' if trail and text.strip() else ''}"


def _fence(lines: list[str]) -> str:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _where(problem: Problem) -> str:
    return ":".join(str(p) for p in (problem.path, problem.line, problem.column) if p is not None)


def _problems(problems: list[Problem], shown: int = SHOWN) -> list[str]:
    if not problems:
        return []
    lines = ["**Test files that could not be used**", ""]
    lines += [
        f"- {code_span(_where(p), 300)}: {words(p.message)} {words(p.hint or '')}".rstrip()
        for p in problems[:shown]
    ]
    return [*lines, *_more(len(problems), shown), ""]


def _more(count: int, shown: int = SHOWN) -> list[str]:
    return [f"- … and {count - shown} more (run `syncer test`)"] if count > shown else []


# -- syncer test --output markdown ------------------------------------------------------------------


def render_markdown(suite: Suite) -> str:
    lines = ["## syncer test", "", summary(suite) + ".", "", *_problems(suite.problems)]
    if suite.results:
        lines += ["| | case | flow | file |", "|---|---|---|---|"]
        for r in suite.results:
            mark = "✅ passes" if r.passed else "❌ fails"
            lines.append(
                f"| {mark} | {md(r.title)} | {code_span(r.flow)} | {code_span(r.file, 300)} |"
            )
        lines.append("")
    for result in (r for r in suite.results if not r.passed):
        lines += _failure(result)
    return "\n".join(lines).rstrip() + "\n"


def _failure(result: CaseResult) -> list[str]:
    lines = [f"### ❌ *{md(result.title)}* ({code_span(result.file, 300)})", ""]
    for verdict in result.verdicts:
        if not verdict.passed:
            lines.append(f"- expected {words(str(verdict.expectation))}: {words(verdict.summary)}")
            if verdict.why:
                lines.append(f"  - {words(verdict.why)}")
    lines += [f"- {words(f)}" for f in result.failures]
    timeline = [flatten(event_line(e), _LONG) for e in result.run.events]
    fence = _fence(timeline)
    return [
        *lines,
        "",
        "<details><summary>Timeline</summary>",
        "",
        f"{fence}text",
        *timeline,
        fence,
        "",
        "</details>",
        "",
    ]


# -- the pull-request report ------------------------------------------------------------------------

_SIDES = {"passes": "passes", "fails": "fails", "absent": "is not there"}


def _change(change: OutcomeChange, base: str) -> str:
    title = f"*{md(change.title)}* ({code_span(change.flow)})"
    if change.before == "absent":
        head = f"{title}: new here, fails"
    elif change.after == "absent":
        head = f"{title}: {_SIDES[change.before]} on {code_span(base)}, removed here"
    else:
        head = f"{title}: {_SIDES[change.before]} on {code_span(base)}, {_SIDES[change.after]} here"
    lines = [f"- {head}" + (f": {words(change.details[0])}" if change.details else "")]
    for detail, reason in list(zip(change.details, change.reasons, strict=False))[:3]:
        if detail != change.details[0]:
            lines.append(f"  - {words(detail)}")
        if reason:
            lines.append(f"  - {words(reason)}")
    return "\n".join(lines)


def review_markdown(review: Review, limit: int = GITHUB_LIMIT) -> str:
    """The pull request's test cases: what changed outcome since the base, then what still fails; at
    most ``limit`` characters (fewer cases listed, and then a cut, when there are very many)."""
    text = _review(review, SHOWN)
    if len(text) > limit:
        text = _review(review, 5)
    if len(text) > limit:
        cut = text[: limit - 80]
        text = cut[: cut.rfind("\n")] + "\n\n*… cut off here; run `syncer test`.*\n"
    return text


def _review(review: Review, shown: int) -> str:
    head = review.head
    lines = [
        TESTS_MARKER,
        f"## syncer: care-flow test cases, compared with {code_span(review.base_ref)}",
        "",
    ]
    if not head.results and not head.problems:
        lines.append(
            "No test cases here. Add them as `flows/<key>/tests/*.yaml` (Awell's validation.yaml format)."
        )
        return "\n".join(lines) + "\n"
    changed = len(review.changes)
    lines += [
        f"{summary(head)} on this change; {changed} case{'' if changed == 1 else 's'} changed outcome.",
        "",
    ]
    if review.base_problem:
        lines += [f"> **Note:** {words(review.base_problem)}", ""]
    if review.changes:
        lines += ["**Changed outcome**", ""]
        lines += (
            [_change(c, review.base_ref) for c in review.changes[:shown]]
            + _more(changed, shown)
            + [""]
        )
    failing = review.still_failing
    if failing:
        lines += [f"**Still failing** (also on {code_span(review.base_ref)}, or not compared)", ""]
        lines += [
            f"- *{md(r.title)}* ({code_span(r.flow)}): {words(r.failure_lines()[0])}"
            for r in failing[:shown]
        ]
        lines += [*_more(len(failing), shown), ""]
    lines += _problems(head.problems, shown)
    lines.append("Run `syncer test` for each case's timeline.")
    return "\n".join(lines).rstrip() + "\n"
