"""Running test-case files against their flows, and comparing two runs (base and head). Pure.

``run_suite`` takes the flows (key -> document) and the files' texts, and returns every case's result,
with the problems of the files that could not be used (a bad file is reported, the others still run).
``compare`` says which cases changed outcome between two suites, for the pull-request report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem, ValidationError
from .cases import CaseFile, load
from .checks import suggest
from .engine import simulate
from .graph import Graph, build
from .judge import CaseResult, judge


@dataclass(frozen=True)
class SourceFile:
    """A test-case file's text, its repository-relative path, and the flow it belongs to."""

    path: str
    flow_key: str
    text: str


@dataclass
class Suite:
    """Every case's result, and the problems and warnings of the files."""

    results: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


def run_suite(
    flows: Mapping[str, dict[str, Any]], files: Sequence[SourceFile], titles: Collection[str] = ()
) -> Suite:
    """Run every case of ``files`` (only those titled one of ``titles``, case-insensitively, if given)."""
    wanted = {t.casefold() for t in titles}
    graphs: dict[str, Graph] = {}
    suite = Suite()
    seen: list[str] = []
    for source in files:
        suite.files.append(source.path)
        document = flows.get(source.flow_key)
        if document is None:
            message = f"the tests of flow `{source.flow_key}` have no flow: flows/{source.flow_key}/flow.yaml is missing."
            suite.problems.append(
                Problem(source.path, message, hint="Add the flow, or move the tests.")
            )
            continue
        graph = graphs.setdefault(source.flow_key, build(document))
        try:
            case_file = load(source.text, source.path, source.flow_key, graph)
        except ValidationError as exc:
            suite.problems.extend(exc.problems)
            continue
        suite.warnings.extend(case_file.warnings)
        seen += [c.title for c in case_file.cases]
        suite.results.extend(_run_file(case_file, graph, wanted))
    suite.problems += _unmatched(titles, seen)
    return suite


def _unmatched(titles: Collection[str], seen: list[str]) -> list[Problem]:
    """A problem for each title given that no case has (a typo, or a path that does not exist)."""
    known = {t.casefold() for t in seen}
    problems = []
    for title in titles:
        if title.casefold() in known:
            continue
        if "/" in title or title.endswith((".yaml", ".yml")):
            problems.append(
                Problem(
                    title,
                    "no such file or folder.",
                    hint="Name a test file, a flow's folder or a case title.",
                )
            )
        else:
            hint = suggest(title, seen) or "Name a test file, a flow's folder or a case title."
            problems.append(Problem(title, f"no test case is titled `{title}`.", hint=hint))
    return problems


def _run_file(case_file: CaseFile, graph: Graph, wanted: set[str]) -> list[CaseResult]:
    results = []
    for definition in case_file.cases:
        if wanted and definition.title.casefold() not in wanted:
            continue
        run = simulate(graph, definition.case)
        results.append(judge(definition, run, graph, case_file.path, case_file.flow_key))
    return results


@dataclass(frozen=True)
class OutcomeChange:
    """A case whose outcome differs between base and head: ``passes``, ``fails`` or ``absent``."""

    flow: str
    file: str
    title: str
    before: str
    after: str
    details: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Review:
    """A pull request's test cases: the head's results, the cases whose outcome changed since the
    base, and why the base's cases could not be run, if they could not."""

    base_ref: str
    head: Suite
    changes: list[OutcomeChange]
    base_problem: str = ""

    @property
    def still_failing(self) -> list[CaseResult]:
        """Cases that fail here and failed on the base too (not news, but not fine either)."""
        changed = {(c.flow, c.file, c.title) for c in self.changes}
        return [
            r
            for r in self.head.results
            if not r.passed and (r.flow, r.file, r.title) not in changed
        ]


def _outcomes(suite: Suite) -> dict[tuple[str, str, str], CaseResult]:
    return {(r.flow, r.file, r.title): r for r in suite.results}


def compare(base: Suite, head: Suite) -> list[OutcomeChange]:
    """The cases that pass on one side and fail (or are missing) on the other, in file order."""
    before, after = _outcomes(base), _outcomes(head)
    changes = []
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        was = "absent" if old is None else "passes" if old.passed else "fails"
        now = "absent" if new is None else "passes" if new.passed else "fails"
        failing = new if new is not None and not new.passed else None
        if was != now and not (was == "absent" and now == "passes"):
            details = tuple(failing.failure_lines()) if failing else ()
            reasons = tuple(failing.reasons()) if failing else ()
            changes.append(OutcomeChange(key[0], key[1], key[2], was, now, details, reasons))
    return changes
