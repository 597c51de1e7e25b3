"""Sandbox working versions -> canonical files under ``flows/`` (the export half of the loop).

Pure conversion (``to_file_form``) plus the work of deciding which files change. Concealed values never
reach disk: the tenant never returns them, and ``to_file_form`` drops any ``value`` or ``has_value`` on a
concealed item anyway.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .canonical import canonicalize
from .errors import Problem, ValidationError
from .model import flow_file_header, iter_value_items
from .validate import check_flow
from .workspace import FLOWS_DIR
from .yamlio import decode, dump, load_text

VOLATILE_KEYS = ("created", "last_updated")


def to_file_form(definition: dict[str, Any]) -> dict[str, Any]:
    """A tenant definition as it is written to Git: canonical, no concealed value, no has_value."""
    document = copy.deepcopy(definition)
    for _ref, item in iter_value_items(document):
        item.pop("has_value", None)
        if item.get("concealed"):
            item.pop("value", None)
    result: dict[str, Any] = canonicalize(document)
    return result


def render_flow(document: dict[str, Any]) -> str:
    return dump(canonicalize(document), flow_file_header())


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)  # repository-relative paths
    unchanged: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)
    deleted_in_source: list[str] = field(
        default_factory=list
    )  # keys still in Git, gone from Sandbox
    revisions: dict[str, int] = field(default_factory=dict)


def existing_ids(root: Path) -> dict[str, str]:
    """definition_id -> flow key of every readable flow file in the work tree (lenient)."""
    found: dict[str, str] = {}
    base = root / FLOWS_DIR
    for path in sorted(base.glob("*/flow.yaml")) if base.is_dir() else []:
        try:
            data = load_text(decode(path.read_bytes(), str(path)), str(path)).data
            found[str(data["metadata"]["definition_id"])] = path.parent.name
        except (ValidationError, KeyError, TypeError):
            continue
    return found


def plan_files(
    root: Path, flows: list[dict[str, Any]], known: dict[str, str]
) -> tuple[dict[str, str], ExportResult]:
    """Render every fetched flow and decide what changes on disk; validates before anything is written."""
    result = ExportResult()
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for live in flows:
        document = to_file_form(live["definition"])
        key = str(document["metadata"]["key"])
        rel = f"{FLOWS_DIR}/{key}/flow.yaml"
        text = render_flow(document)
        problems.extend(check_flow(load_text(text, f"{rel} (from the tenant)"), key))
        previous = known.get(str(document["metadata"]["definition_id"]))
        clash = next((i for i, k in known.items() if k == key), None)
        if clash is not None and clash != document["metadata"]["definition_id"]:
            problems.append(
                Problem(
                    rel,
                    f"already holds flow {clash}, but the tenant's flow with key "
                    f"`{key}` has definition_id {document['metadata']['definition_id']}.",
                    hint="Ids are never remapped: rename one of the two flows.",
                )
            )
        if previous and previous != key:
            result.renamed.append((previous, key))
            result.removed_paths.append(f"{FLOWS_DIR}/{previous}/flow.yaml")
        texts[rel] = text
        result.revisions[key] = int(live.get("revision", 0))
    if problems:
        raise ValidationError(problems)
    for rel, text in texts.items():
        path = root / rel
        if path.is_file() and path.read_bytes() == text.encode("utf-8"):
            result.unchanged.append(rel)
        else:
            result.written.append(rel)
    return texts, result
