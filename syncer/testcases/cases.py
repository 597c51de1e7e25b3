"""A test-case file: read it, check it (schema, then meaning against its flow), turn it into cases.

``load(text, display, flow)`` returns a ``CaseFile`` or raises ``ValidationError`` with every problem,
each with the file, line and column. Loading goes through ``syncer.yamlio`` (size limit, no duplicate
keys, no anchors or aliases, UTF-8 only), so a test file is held to the rules of every other file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import yamlio
from ..errors import Problem, ValidationError
from . import schema
from .checks import check
from .graph import Graph, build, delay_of
from .inputs import Activity, Answer, Case

EXPECTATION_TYPES = ("step", "track", "careflow")
FLOWS_DIR = "flows"
TESTS_DIR = "tests"
SUFFIXES = (".yaml", ".yml")


def tests_folder(key: str) -> str:
    """The repository-relative folder of a flow's test cases."""
    return f"{FLOWS_DIR}/{key}/{TESTS_DIR}"


def is_case_file(relative: str) -> bool:
    """Whether a repository-relative path is ``flows/<key>/tests/<name>.yaml`` (or ``.yml``)."""
    parts = relative.split("/")
    return (
        len(parts) == 4
        and parts[0] == FLOWS_DIR
        and parts[2] == TESTS_DIR
        and relative.endswith(SUFFIXES)
    )


@dataclass(frozen=True)
class Expectation:
    """One ``validate`` entry: some activity of this type (and name) had this action."""

    type: str
    action: str
    name: str | None
    line: int | None = None

    def __str__(self) -> str:
        subject = "care flow" if self.type == "careflow" else f"{self.type} *{self.name}*"
        return f"{subject} {self.action}"


@dataclass(frozen=True)
class CaseDefinition:
    """One case of a file: what the simulator plays, and what must have happened."""

    title: str
    description: str
    case: Case
    expectations: tuple[Expectation, ...]
    line: int | None = None
    activity_lines: tuple[int | None, ...] = ()


@dataclass
class CaseFile:
    """A checked test-case file: its cases, and the warnings about it (never blocking)."""

    path: str
    flow_key: str
    cases: list[CaseDefinition]
    warnings: list[Problem] = field(default_factory=list)


def load(text: str, display: str, flow_key: str, flow: dict[str, Any] | Graph) -> CaseFile:
    """Parse and check a test-case file for the flow ``flow`` (a document or an indexed graph)."""
    doc = yamlio.load_text(text, display)
    if doc.data is None:
        raise ValidationError(
            [Problem(display, "the file is empty; a test-case file starts with `cases:`.", 1, 1)]
        )
    findings = schema.findings(doc.data)
    if findings:
        raise ValidationError([doc.problem(f.path, f.message, f.hint) for f in findings])
    graph = flow if isinstance(flow, Graph) else build(flow)
    checked = check(doc, graph)
    if checked.errors:
        raise ValidationError(sorted(checked.errors, key=lambda p: (p.line or 0, p.column or 0)))
    cases = [_case(doc, index, data) for index, data in enumerate(doc.data["cases"])]
    return CaseFile(display, flow_key, cases, checked.warnings)


def _answers(rows: Any, key: str = "key") -> tuple[Answer, ...]:
    return tuple(Answer(str(row[key]), row.get("value")) for row in rows or [])


def _activity(index: int, data: dict[str, Any]) -> Activity:
    kind = str(data["type"])
    name = str(data.get("action_name") or data.get("name") or "")
    answers = _answers(data.get("questions") if kind == "form" else data.get("data_points"))
    return Activity(
        index=index,
        type=kind,
        name=name,
        answers=answers,
        after=delay_of(data.get("after")),
        step=data.get("step"),
        action=data.get("action"),
        extension=data.get("extension_name"),
    )


def _case(doc: yamlio.Document, index: int, data: dict[str, Any]) -> CaseDefinition:
    path = ("cases", index)
    activities = data.get("activities") or []
    case = Case(
        title=str(data["title"]),
        baseline=_answers(data.get("baseline_datapoints"), "definition_id"),
        activities=tuple(_activity(n, a) for n, a in enumerate(activities)),
    )
    expectations = tuple(
        Expectation(
            str(e["type"]), str(e["action"]), e.get("name"), doc.locate((*path, "validate", n))[0]
        )
        for n, e in enumerate(data.get("validate") or [])
    )
    lines = tuple(doc.locate((*path, "activities", n))[0] for n in range(len(activities)))
    return CaseDefinition(
        case.title,
        str(data.get("description") or ""),
        case,
        expectations,
        doc.locate(path)[0],
        lines,
    )
