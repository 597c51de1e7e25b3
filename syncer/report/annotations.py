"""GitHub workflow commands: a plan or a validation as annotations on the lines concerned. Pure.

``::error file=flows/x/flow.yaml,line=14,col=7,title=…::message`` puts a problem on line 14 of a pull
request's changed file; ``::warning`` and ``::notice`` likewise. The runner's escaping is followed
exactly: in a message ``%``, CR and LF become ``%25``, ``%0D`` and ``%0A``; in a property value ``:``
and ``,`` also become ``%3A`` and ``%2C``. A message can therefore never end the command or start a
new one, and any other line printed with the commands that happens to start with ``::`` (a title a
user typed) is indented so that the runner never reads it as a command.

GitHub shows at most 10 annotations of each level per step (and 50 per job): each level is capped at
10, the tenth saying how many more there are and where to read them. The same change planned for
several environments is one annotation naming them all.

Levels: a plan error is an ``error``; drift, conflict, a breaking change and a flow that needs
adopting or is orphaned are ``warning``s (a person decides); what apply would write, and flows only
the tenant has, are ``notice``s. Validation problems are ``error``s, its warnings ``warning``s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Problem
from ..model import Change, EnvironmentPlan, FlowPlan, Status
from ..plan import has_changes, needs_person
from .details import Lookup
from .safe_text import Style, flatten
from .words import (
    RenderOptions,
    concealed_refs,
    consequence,
    describe_breaking,
    describe_change,
    who_edited,
)

PER_LEVEL = 10
LEVELS = ("error", "warning", "notice")
MESSAGE_LIMIT = 4000  # characters of one annotation's message
Locator = Callable[[str, str], tuple[str, int, int] | None]  # (flow key, change path) -> place


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    message: str
    title: str = ""
    file: str | None = None
    line: int | None = None
    col: int | None = None


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(annotation: Annotation) -> str:
    """One workflow command line."""
    props = [
        (name, str(value))
        for name, value in (
            ("file", annotation.file),
            ("line", annotation.line),
            ("col", annotation.col),
            ("title", annotation.title),
        )
        if value not in (None, "")
    ]
    head = ",".join(f"{name}={escape_property(value)}" for name, value in props)
    return f"::{annotation.level}{' ' + head if head else ''}::{escape_data(annotation.message)}"


def safe_line(line: str) -> str:
    """A line printed beside the commands: never read as one."""
    return f"  {line}" if line.lstrip().startswith("::") else line


def capped(annotations: Iterable[Annotation], where: str) -> list[Annotation]:
    """At most ``PER_LEVEL`` of each level, in the order given; the last one kept says how many more
    there are and ``where`` to read them."""
    by_level: dict[str, list[Annotation]] = {level: [] for level in LEVELS}
    for annotation in annotations:
        by_level.setdefault(annotation.level, []).append(annotation)
    kept: list[Annotation] = []
    for level, items in by_level.items():
        if len(items) > PER_LEVEL:
            more = len(items) - PER_LEVEL + 1
            items = [
                *items[: PER_LEVEL - 1],
                Annotation(level, f"{more} more {level}s like these: {where}.", "syncer: more"),
            ]
        kept += items
    return kept


def render(annotations: Iterable[Annotation], lines: Sequence[str] = (), where: str = "") -> str:
    """The commands (capped), then ``lines`` made safe to print beside them."""
    commands = [command(a) for a in capped(annotations, where or "see the log of this step")]
    return "\n".join([*commands, *(safe_line(line) for line in lines)]) + "\n"


# -- validation --------------------------------------------------------------------------------------


def problem_annotations(
    problems: Sequence[Problem], warnings: Sequence[Problem]
) -> list[Annotation]:
    """``syncer validate`` findings on their files, lines and columns."""
    found = []
    for level, items in (("error", problems), ("warning", warnings)):
        for problem in items:
            message = f"{problem.message} {problem.hint or ''}".strip()
            found.append(
                Annotation(
                    level,
                    message,
                    "syncer validate",
                    problem.path or None,
                    problem.line,
                    problem.column,
                )
            )
    return found


# -- plans ---------------------------------------------------------------------------------------------


def json_path(document: Any, change_path: str) -> list[str | int]:
    """A change's path (``tracks[main].steps[intake].title``: components by key or id) as the path of
    list indices and keys into the flow file; as far as the document goes."""
    tokens = _tokens(change_path)
    if not tokens:
        return []
    node: Any = document
    path: list[str | int] = []
    if tokens[0][0] not in ("metadata", "layout", "spec", "apiVersion", "kind"):
        if tokens[0][0] == "flow":
            return ["metadata"]
        node, path = (document or {}).get("spec"), ["spec"]
    for name, ref in tokens:
        if not isinstance(node, dict) or name not in node:
            break
        node, path = node[name], [*path, name]
        if ref is None:
            continue
        index = _index_of(node, ref)
        if index is None:
            break
        node, path = node[index], [*path, index]
    return path


def _tokens(change_path: str) -> list[tuple[str, str | None]]:
    """``a[x.y].b`` -> ``[("a", "x.y"), ("b", None)]``: dots inside brackets belong to the ref."""
    return [
        (m.group(1), m.group(2)) for m in re.finditer(r"([^.\[\]]+)(?:\[([^\]]*)\])?", change_path)
    ]


def _index_of(items: Any, ref: str) -> int | None:
    if not isinstance(items, list):
        return None
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("key") or item.get("id")) == ref:
            return index
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == ref:
            return index
    return None


_PLAIN = Style(markdown=False)
_OPTIONS = RenderOptions(diagrams=False)


def plan_annotations(plans: Sequence[EnvironmentPlan], locate: Locator) -> list[Annotation]:
    """Every plan's news on the lines of the flow files concerned, the same news of several
    environments merged into one annotation."""
    merged: dict[tuple[Any, ...], tuple[Annotation, list[str]]] = {}
    for plan in plans:
        for error in plan.errors:
            _merge(merged, Annotation("error", flatten(error, 500), "syncer"), plan.environment)
        for flow in plan.flows:
            for annotation in _flow_annotations(flow, plan.environment, locate):
                _merge(merged, annotation, plan.environment)
    ordered = sorted(merged.values(), key=lambda item: LEVELS.index(item[0].level))
    return [replace(a, title=f"{a.title} in {', '.join(envs)}") for a, envs in ordered]


def _merge(
    merged: dict[tuple[Any, ...], tuple[Annotation, list[str]]], annotation: Annotation, env: str
) -> None:
    key = (
        annotation.level,
        annotation.file,
        annotation.line,
        annotation.message.replace(env, "{env}"),
    )
    if key in merged:
        merged[key][1].append(env)
    else:
        merged[key] = (annotation, [env])


_TITLES = {
    Status.CONFLICT: ("warning", "syncer: conflict"),
    Status.DRIFT: ("warning", "syncer: drift"),
    Status.UNMANAGED: ("warning", "syncer: unmanaged flow"),
    Status.ORPHANED: ("warning", "syncer: orphaned flow"),
    Status.CREATE: ("notice", "syncer: flow created on apply"),
    Status.UPDATE: ("notice", "syncer: change applied on apply"),
    Status.UNTRACKED: ("notice", "syncer: flow only in the tenant"),
}


def _flow_annotations(flow: FlowPlan, environment: str, locate: Locator) -> list[Annotation]:
    if flow.status is Status.IN_SYNC:
        return []
    level, title = _TITLES[flow.status]
    refs = concealed_refs(flow)
    lookup = Lookup.of(flow, refs)
    found = [
        _at(
            locate,
            flow.key,
            c.path,
            "warning",
            "syncer: breaking for integrations",
            describe_breaking(c, _PLAIN),
        )
        for c in [*flow.changes, *flow.git_side]
        if c.breaking
    ]
    after = consequence(flow, environment, _PLAIN)
    if flow.status in (Status.DRIFT, Status.CONFLICT):
        after = " ".join(who_edited(flow, environment, _PLAIN)) + "\n" + after
    changes = [c for c in flow.changes if not c.breaking and not c.cosmetic]
    if (
        flow.status in (Status.CREATE, Status.UNMANAGED, Status.ORPHANED, Status.UNTRACKED)
        or not changes
    ):
        what = f"{flatten(flow.title) or flow.key} ({flow.status.value}). {flow.reason}".strip()
        return [*found, _at(locate, flow.key, "flow", level, title, f"{what}\n{after}")]
    for change in changes:
        found.append(
            _at(
                locate,
                flow.key,
                change.path,
                level,
                title,
                f"{_words(change, refs, lookup)}\n{after}",
            )
        )
    return found


def _words(change: Change, refs: set[str], lookup: Lookup) -> str:
    described = describe_change(change, _PLAIN, _OPTIONS, refs, lookup)
    lines = [described.line, *described.diff]
    for detail in described.details:
        lines += [f"· {detail.text}", *(f"  {d}" for d in detail.diff)]
    return "\n".join(lines)[:MESSAGE_LIMIT]


def _at(locate: Locator, key: str, path: str, level: str, title: str, message: str) -> Annotation:
    place = locate(key, path)
    if place is None:
        return Annotation(level, message, title)
    file, line, col = place
    return Annotation(level, message, title, file, line, col)


# -- step outputs and commit statuses ------------------------------------------------------------------


def step_outputs(plans: Sequence[EnvironmentPlan]) -> dict[str, str]:
    """What the action exposes after a plan or report: ``changes`` and ``needs-person`` (``true`` or
    ``false``) and ``summary``, the status counts of each environment as one line of JSON."""
    summary = {
        plan.environment: {
            **plan.summary(),
            "changes": has_changes([plan]),
            "needs_person": needs_person([plan]),
            "state": status_state(plan),
        }
        for plan in plans
    }
    return {
        "changes": "true" if has_changes(plans) else "false",
        "needs-person": "true" if needs_person(plans) else "false",
        "summary": json.dumps(summary, sort_keys=True, separators=(",", ":")),
    }


def status_state(plan: EnvironmentPlan) -> str:
    """An environment's commit status: ``error`` when planning failed somewhere, ``failure`` when a
    flow needs a person, else ``success`` (changes to apply are good news, not a failure)."""
    if plan.errors:
        return "error"
    return "failure" if needs_person([plan]) else "success"
