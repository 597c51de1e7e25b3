"""The machinery of a care flow's meaning checks: an index of its ids, a ``Checker`` that collects
located errors and warnings, "Did you mean ...?" hints, and walkers that skip malformed parts.

Everything here is written for documents that may be malformed: a field of the wrong type is skipped,
never a crash (the schema reports it).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from ..yamlio import Document, JsonPath

# Component lists: spec field -> the kind named in messages. All share one id namespace, except data point
# definitions (a form question and its data point carry the same id by design).
TOP_LEVEL_KINDS = {
    "stakeholders": "stakeholder",
    "labels": "label",
    "tracks": "track",
    "rules": "rule",
    "triggers": "trigger",
    "timings": "timing",
    "dynamic_variables": "dynamic variable",
    "forms": "form",
    "messages": "message",
    "clinical_notes": "clinical note",
    "extension_webhooks": "extension webhook",
}
_WHERE = {
    "stakeholder": "`spec.stakeholders`",
    "label": "`spec.labels`",
    "track": "`spec.tracks`",
    "step": "any track",
    "rule": "`spec.rules`",
    "timing": "`spec.timings`",
    "dynamic variable": "`spec.dynamic_variables`",
    "form": "`spec.forms`",
    "message": "`spec.messages`",
    "clinical note": "`spec.clinical_notes`",
    "extension webhook": "`spec.extension_webhooks`",
    "data point definition": "`spec.data_point_definitions`",
    "constant": "`spec.settings.constants`",
}


def items_of(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """The mappings of a list, with their paths; anything else is skipped (the schema reports it)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield (*path, index), item


def strings_of(value: Any) -> list[str]:
    """The strings of a list; anything else is skipped."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def display_name(item: dict[str, Any]) -> str:
    """How a message names a component: its key, title or label, else its id."""
    for field_name in ("key", "title", "label", "qualified_key"):
        value = item.get(field_name)
        if isinstance(value, str) and value:
            return value
    return str(item.get("id", "?"))


def suggest(value: str, known: dict[str, str]) -> str | None:
    """A "Did you mean ...?" hint: ``known`` maps each id to a readable name (key, title, ...)."""
    for candidate, name in known.items():
        if value and value.lower() == candidate.lower():
            return f"Did you mean `{candidate}`?"
        if value and value.lower() == name.lower():
            return f"Did you mean `{candidate}` ({name})?"
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    if close:
        return f"Did you mean `{close[0]}`?"
    by_name = {name: candidate for candidate, name in known.items()}
    close = difflib.get_close_matches(value, list(by_name), n=1, cutoff=0.75)
    if close:
        return f"Did you mean `{by_name[close[0]]}` ({close[0]})?"
    return None


@dataclass
class _Index:
    """Every id of the flow, by kind, with a readable name for suggestions."""

    definition_id: str = ""
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    step_track: dict[str, str] = field(default_factory=dict)  # step id -> track id
    track_steps: dict[str, dict[str, str]] = field(default_factory=dict)
    constant_keys: dict[str, str] = field(default_factory=dict)  # constant key -> id

    def known(self, kind: str) -> dict[str, str]:
        return self.ids.setdefault(kind, {})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _build_index(data: dict[str, Any]) -> _Index:
    spec = _dict(data.get("spec"))
    index = _Index(definition_id=str(_dict(data.get("metadata")).get("definition_id", "")))
    for list_name, kind in TOP_LEVEL_KINDS.items():
        for _path, item in items_of(spec.get(list_name), ()):
            index.known(kind)[str(item.get("id"))] = display_name(item)
    for _path, item in items_of(spec.get("data_point_definitions"), ()):
        index.known("data point definition")[str(item.get("id"))] = display_name(item)
    for _path, track in items_of(spec.get("tracks"), ()):
        steps = index.track_steps.setdefault(str(track.get("id")), {})
        for _step_path, step in items_of(track.get("steps"), ()):
            steps[str(step.get("id"))] = display_name(step)
            index.known("step")[str(step.get("id"))] = display_name(step)
            index.step_track[str(step.get("id"))] = str(track.get("id"))
    for _path, constant in items_of(_dict(spec.get("settings")).get("constants"), ()):
        index.known("constant")[str(constant.get("id"))] = str(constant.get("key", ""))
        if isinstance(constant.get("key"), str):
            index.constant_keys.setdefault(constant["key"], str(constant.get("id")))
    return index


class Checker:
    """Collects errors and warnings for one document."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
        spec = self.data.get("spec")
        self.spec: dict[str, Any] = spec if isinstance(spec, dict) else {}
        self.index = _build_index(self.data)
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.errors.append(self.doc.problem(path, message, hint))

    def warn(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.warnings.append(
            dataclasses.replace(self.doc.problem(path, message, hint), warning=True)
        )

    def reference(
        self, path: JsonPath, value: Any, kind: str, owner: str, warn: bool = False
    ) -> None:
        """Report ``value`` unless it is an id of ``kind``."""
        if not isinstance(value, str) or value in self.index.known(kind):
            return
        message = f"{owner} refers to {kind} `{value}`, which does not exist in {_WHERE[kind]}."
        hint = suggest(value, self.index.known(kind)) or f"Fix the id or add the {kind}."
        (self.warn if warn else self.error)(path, message, hint)
