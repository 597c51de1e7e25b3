"""Carrying a Production hotfix back into Git (and Sandbox), and the one-time bootstrap copy.

Pure: documents and texts (committing them on a branch is ``vcs.commit_on_branch``).
What comes back from Production (docs/hotfixes.md says why):

- Production's **shape**: every component, text, rule and label as it is live, and its **layout**
  (moving boxes is part of the hotfix story; layout stays cosmetic everywhere else).
- Git's **values**: every constant and extension setting Git knows keeps Git's value (environment values
  stay in ``environments/*.yaml``); a concealed item never carries one. An item only Production has comes
  back without a value when it is concealed, blank when it is an extension setting (settings are
  environment-specific), and with Production's value when it is a visible constant (a visible constant's
  value is flow content that SPEC 1 promotes); each such item is named for the reviewer.
- Paths the environment ``ignore``s keep Git's content: they belong to the environment.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..canonical import canonicalize, render_flow, to_file_form, without_layout
from ..errors import ValidationError
from ..model import (
    FLOWS_DIR,
    Change,
    FlowPlan,
    Status,
    is_constant_ref,
    iter_value_items,
)
from ..plan import diff
from ..validate import check_rendered

BACKPORTABLE = frozenset({Status.DRIFT, Status.CONFLICT})
ANN_BACKPORTED = "syncer.io/backported-from"  # recorded on a Sandbox flow that --to-sandbox wrote


@dataclass
class Backported:
    """The file a backport commits: its document, its canonical text and notes for the reviewer."""

    document: dict[str, Any]
    text: str
    notes: list[str] = field(default_factory=list)


def flow_path(key: str) -> str:
    return f"{FLOWS_DIR}/{key}/flow.yaml"


def default_branch(environment: str, key: str, revision: int | None) -> str:
    """The branch of a one-off backport: one per hotfixed revision."""
    return f"backport/{environment}/{key}-r{revision}"


def stable_branch(environment: str, key: str) -> str:
    """The branch `reconcile --open-backport-prs` keeps for one flow and environment."""
    return f"backport/{environment}/{key}"


def _by_id(document: dict[str, Any] | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Constants and extension settings by id (ids are stable; a hotfix may rename a key)."""
    return {str(item.get("id", ref)): (ref, item) for ref, item in iter_value_items(document or {})}


def backport_document(
    live_definition: dict[str, Any],
    git_document: dict[str, Any],
    environment: str,
    ignore: Iterable[str] = (),
) -> Backported:
    """Production's working version in file form, with Git's values and Git's ignored paths."""
    document = to_file_form(live_definition)
    known = _by_id(git_document)
    notes: list[str] = []
    for ref, item in iter_value_items(document):
        note = _keep_git_value(ref, item, known.get(str(item.get("id", ref))), environment)
        if note:
            notes.append(note)
    for dotted in ignore:
        _take_path(git_document, document, dotted)
    document = canonicalize(document)
    text = render_flow(document)
    key = str(document["metadata"]["key"])
    problems = check_rendered(document, text, f"{flow_path(key)} (from {environment})", key)
    if problems:
        raise ValidationError(problems)
    return Backported(document, text, notes)


def _keep_git_value(
    ref: str, item: dict[str, Any], known: tuple[str, dict[str, Any]] | None, environment: str
) -> str:
    """Give ``item`` (Production's shape) Git's value; returns a note for the reviewer, if any."""
    kind = "constant" if is_constant_ref(ref) else "extension setting"
    if item.get("concealed"):
        item.pop("value", None)
        if known is None:
            return f"{kind} `{ref}` is new in {environment} and concealed: it comes back without a value."
        if not known[1].get("concealed"):
            return f"{kind} `{ref}` was made concealed in {environment}: Git's value is dropped."
        return ""
    git_item = known[1] if known else None
    if git_item is not None and not git_item.get("concealed"):
        item["value"] = git_item.get("value")
        return ""
    if git_item is not None:
        item["value"] = ""
        return (
            f"{kind} `{ref}` is concealed in Git but visible in {environment}: it comes back blank; "
            "Production's value is not carried into Git."
        )
    if is_constant_ref(ref):
        return (
            f"constant `{ref}` is new in {environment}: it comes back with {environment}'s value. If "
            f"that value belongs to {environment} only, move it to environments/{environment}.yaml."
        )
    item["value"] = ""
    return (
        f"extension setting `{ref}` is new in {environment}: it comes back blank (settings are "
        "environment-specific); give each environment its value under `extensions:`."
    )


def _take_path(source: dict[str, Any], target: dict[str, Any], dotted: str) -> None:
    """Make ``target`` hold ``source``'s content at ``dotted`` (absent in source: absent in target)."""
    parts = dotted.split(".")
    src: Any = source
    dst: Any = target
    for part in parts[:-1]:
        src = src.get(part) if isinstance(src, dict) else None
        if not isinstance(dst, dict):
            return
        if part not in dst:
            if not isinstance(src, dict):
                return
            dst[part] = {}
        dst = dst[part]
    if not isinstance(dst, dict):
        return
    if isinstance(src, dict) and parts[-1] in src:
        dst[parts[-1]] = copy.deepcopy(src[parts[-1]])
    else:
        dst.pop(parts[-1], None)


# -- texts --------------------------------------------------------------------------------------------


def edit_lines(plan: FlowPlan) -> list[str]:
    """One line per Production edit since syncer last wrote the flow: revision, editor, time."""
    lines = []
    for edit in sorted(plan.live_edits, key=lambda e: e.revision):
        how = "hotfix" if edit.hotfix else "not marked as a hotfix"
        via = f", via {edit.edit_source}" if edit.edit_source else ""
        lines.append(
            f"revision {edit.revision} by {edit.user or 'an unknown user'} at {edit.at} ({how}{via})"
        )
    return lines


def commit_message(plan: FlowPlan, environment: str, backported: Backported) -> str:
    """Names the environment, the revision, and the editor and time of every hotfix edit."""
    revision = plan.live_revision
    lines = [
        f"Backport hotfix of {plan.key} from {environment} (revision {revision})",
        "",
        f"Carries the working version of `{plan.key}` in {environment} (revision {revision}) back "
        f"into {flow_path(plan.key)}; syncer found it in {plan.status.value}.",
        "",
        f"Edits in {environment} since syncer last wrote it:",
    ]
    lines += [f"- {line}" for line in edit_lines(plan)] or ["- (no edit history available)"]
    changes = [c for c in plan.changes if not c.cosmetic] + [c for c in plan.changes if c.cosmetic]
    if changes:
        lines += ["", "What it changes in Git:", *_described(changes)]
    if plan.status is Status.CONFLICT:
        lines += ["", "Conflict: this replaces what Git changed since the last apply:"]
        lines += _described(plan.git_side) or ["- (Git's side could not be read)"]
    lines += [
        "",
        "Kept from Git (not carried back): constant and extension-setting values, concealed "
        "values and paths the environment ignores.",
    ]
    if backported.notes:
        lines += ["", "For the reviewer:"] + [f"- {note}" for note in backported.notes]
    lines += ["", f"Syncer-Backport: {environment} {plan.key} r{revision}"]
    return "\n".join(lines) + "\n"


def _described(changes: list[Change], limit: int = 30) -> list[str]:
    lines = [f"- {c.description or diff.describe(c)}" for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"- ... and {len(changes) - limit} more")
    return lines


# -- Sandbox ------------------------------------------------------------------------------------------


def unexported_edits(
    sandbox_definition: dict[str, Any], base_document: dict[str, Any]
) -> list[Change]:
    """Sandbox's edits since the last export: Git at the base -> Sandbox now, layout ignored
    (moved boxes are kept by ``sandbox_body``, so they are never lost)."""
    live = without_layout(to_file_form(sandbox_definition))
    base = without_layout(canonicalize(base_document))
    if live == base:
        return []
    found = diff.diff(base, live)
    if found:
        return found
    return [Change("flow", "changed", description="the flow differs in a way diff cannot name")]


def with_own_values(document: dict[str, Any], own: dict[str, Any] | None) -> dict[str, Any]:
    """``document`` as a write to a tenant that keeps its own values: no concealed value is sent
    (the tenant keeps what it has, blank on create), and every visible item ``own`` already has
    keeps ``own``'s value."""
    body = copy.deepcopy(document)
    mine = _by_id(own)
    for ref, item in iter_value_items(body):
        item.pop("has_value", None)
        if item.get("concealed"):
            item.pop("value", None)
            continue
        kept = mine.get(str(item.get("id", ref)))
        if kept is not None and not kept[1].get("concealed"):
            item["value"] = kept[1].get("value")
    return body


def sandbox_body(
    backported: dict[str, Any], sandbox_definition: dict[str, Any], base_document: dict[str, Any]
) -> dict[str, Any]:
    """The Sandbox write of ``--to-sandbox``: the backported shape with Sandbox's own values
    (concealed ones are never sent) and the boxes Sandbox moved since the last export."""
    body = with_own_values(backported, sandbox_definition)
    body["layout"] = merge_layout(
        base_document.get("layout"), sandbox_definition.get("layout"), backported.get("layout")
    )
    return body


def merge_layout(base: Any, sandbox: Any, incoming: Any) -> dict[str, Any]:
    """``incoming``'s layout, except boxes Sandbox moved since the base (Sandbox's own work)."""
    merged: dict[str, Any] = copy.deepcopy(incoming) if isinstance(incoming, dict) else {}
    for section, positions in (sandbox or {}).items():
        target = merged.get(section)
        if not isinstance(positions, dict) or not isinstance(target, dict):
            continue
        old = ((base or {}).get(section) or {}) if isinstance(base, dict) else {}
        for node, position in positions.items():
            if node in target and old.get(node) != position:
                target[node] = copy.deepcopy(position)
    return merged
