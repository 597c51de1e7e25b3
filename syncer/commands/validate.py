"""``syncer validate [PATH ...]``: schema and meaning checks of flows and environments. Reads only.

``--output github`` prints each finding as a GitHub annotation on its file, line and column.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import EXIT_ERROR, EXIT_OK, Problem
from ..github.actions import write_outputs
from ..report.annotations import problem_annotations, render
from ..validate import RepositoryCheck
from ..workspace.validation import validate_repository


def run(args: argparse.Namespace) -> int:
    return validate(args.repo, args.paths, args.output)


def validate(repo: str, paths: list[str], output: str) -> int:
    """Validate the repository (or the given paths); exit 0 when valid, 1 when a problem was found."""
    result = validate_repository(Path(repo), [Path(p) for p in paths])
    if output == "json":
        print(json.dumps(_as_json(result), indent=2, ensure_ascii=False))
    elif output == "markdown":
        print(_as_markdown(result))
    elif output == "github":
        annotations = problem_annotations(result.problems, result.warnings)
        print(render(annotations, [_summary(result)], "run `syncer validate`"), end="")
        counts = {"problems": str(len(result.problems)), "warnings": str(len(result.warnings))}
        write_outputs(counts)
    else:
        _print_text(result)
    return EXIT_ERROR if result.problems else EXIT_OK


def _summary(result: RepositoryCheck) -> str:
    tests = f", {_count(result.tests, 'test-case file')}" if result.tests else ""
    read = f"{_count(result.flows, 'flow')}{tests} and {_count(result.environments, 'environment')}"
    if result.problems:
        return f"{_count(len(result.problems), 'problem')} in {read}; nothing was written."
    warned = f" ({_count(len(result.warnings), 'warning')})" if result.warnings else ""
    return f"valid: {read}{warned}."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print_text(result: RepositoryCheck) -> None:
    for problem in result.problems:
        print(f"error: {problem}", file=sys.stderr)
    for problem in result.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    print(_summary(result), file=sys.stderr if result.problems else sys.stdout)


def _problem_json(problem: Problem, severity: str) -> dict[str, object]:
    return {
        "severity": severity,
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
        "hint": problem.hint,
    }


def _as_json(result: RepositoryCheck) -> list[dict[str, object]]:
    return [_problem_json(p, "error") for p in result.problems] + [
        _problem_json(p, "warning") for p in result.warnings
    ]


def _as_markdown(result: RepositoryCheck) -> str:
    lines = ["## syncer validate", "", _summary(result)]
    findings = [("error", p) for p in result.problems] + [("warning", p) for p in result.warnings]
    if findings:
        lines += ["", "| | where | problem |", "|---|---|---|"]
        for severity, problem in findings:
            where = ":".join(str(p) for p in (problem.path, problem.line, problem.column) if p)
            text = f"{problem.message} {problem.hint or ''}".strip().replace("|", "\\|")
            lines.append(f"| {severity} | `{where}` | {text} |")
    return "\n".join(lines)
