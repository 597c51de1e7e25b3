"""A plan in words, shared by the Markdown and the terminal renderings. Pure.

Most urgent first; each change named by the component it touches (``step *Triage* → action *Call*:
title changed``); who edited Production and when; what syncer will do about it. A change that touches
a concealed item shows ``(concealed)``, never a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..model import (
    Change,
    Component,
    EnvironmentPlan,
    FlowPlan,
    HoldKind,
    LiveEdit,
    Status,
    iter_value_items,
)
from .details import EXCERPT_LIMIT, Detail, Lookup, carried_name, quote, transition
from .fields import explain
from .safe_text import Style, flatten

CAP = 20  # items per list once lists are capped to fit
CONCEALED = "(concealed)"

ORDER = (
    Status.CONFLICT,
    Status.DRIFT,
    Status.UNMANAGED,
    Status.ORPHANED,
    Status.CREATE,
    Status.UPDATE,
    Status.UNTRACKED,
    Status.IN_SYNC,
)
# Listed by name in one line, not given a section each: nothing to do about them.
LISTED = (Status.UNTRACKED, Status.IN_SYNC)
_KINDS = {
    "data_point_definition": "data point",
    "extension_setting": "setting",
    "extension_webhook": "extension webhook",
    "clinical_note": "clinical note",
    "dynamic_variable": "dynamic variable",
}
_BREAKING_WHY = {
    "flow": "integrations that start or query this care flow by its definition id will fail",
    "track": "integrations that start or query this track by id will fail",
    "data_point_definition": "integrations that read this data point by id or key will get nothing",
    "form": "integrations that read this form's answers will get nothing",
    "question": "integrations that read this question's answer by key will get nothing",
}
_CHILD_LISTS = (
    "steps",
    "transitions",
    "actions",
    "questions",
    "conditions",
    "options",
    "checklist",
)


@dataclass(frozen=True)
class RenderOptions:
    """How much detail to render; shortening switches these off one by one."""

    diagrams: bool = True
    excerpts: bool = True
    collapse: bool = False
    cap: int | None = None
    overwriting: str | None = None  # the flow whose drift this run overwrites (not a detail level)


# -- urgency ----------------------------------------------------------------------------------------


def ordered(flows: Iterable[FlowPlan]) -> list[FlowPlan]:
    """Most urgent first: conflict, drift, breaking, unmanaged, orphaned, create, update, untracked,
    in sync."""

    def urgency(flow: FlowPlan) -> tuple[float, str]:
        rank: float = ORDER.index(flow.status)
        return (1.5 if is_breaking(flow) and rank > 1 else rank), flow.key

    return sorted(flows, key=urgency)


def is_breaking(flow: FlowPlan) -> bool:
    """Whether a flow's plan breaks an integration (flag or any breaking change)."""
    return flow.breaking or any(c.breaking for c in [*flow.changes, *flow.git_side])


# -- concealed values -------------------------------------------------------------------------------


def concealed_refs(flow: FlowPlan) -> set[str]:
    """Keys, refs and ids of every concealed constant or setting the flow knows of."""
    refs = {c.key for c in flow.constants if c.concealed}
    for document in (flow.desired, flow.live):
        for ref, item in iter_value_items(document or {}):
            if item.get("concealed"):
                refs.update({ref, str(item.get("id", ref))})
    return refs


def hides(change: Change, refs: set[str]) -> bool:
    """Whether a change touches a concealed item, so its values must not be shown."""
    named = any(c.key in refs or c.id in refs for c in change.trail)
    flagged = any(isinstance(v, dict) and v.get("concealed") for v in (change.before, change.after))
    return named or flagged or any(ref and ref in change.path for ref in refs)


# -- changes in words (shared by Markdown and text) -------------------------------------------------


def _component(component: Component, s: Style) -> str:
    kind = _KINDS.get(component.kind, component.kind.replace("_", " "))
    name = s.name(component.title) if component.title else s.code(component.key or component.id)
    kind_of = f" ({s.text(component.type, 40)})" if component.type else ""
    return f"{kind} {name}{kind_of}"


def _where(change: Change, s: Style) -> str:
    if not change.trail:
        return s.text(change.description, 200) if change.description else s.code(change.path)
    words = " → ".join(_component(c, s) for c in change.trail)
    return words[:1].upper() + words[1:]


# A field syncer does not model is named by Awell's own name, which is data: shown as code, made safe.
def _field(change: Change, s: Style | None = None) -> str:
    return carried_name(change.field, s) or re.sub(r"[_.]+", " ", change.field).strip()


def _summary(value: Any, s: Style) -> str:
    """A compact summary of an added or removed component: what it holds, never its values."""
    if not isinstance(value, dict):
        return f": {quote(value, s, EXCERPT_LIMIT)}" if value not in (None, "") else ""
    parts = []
    for key in _CHILD_LISTS:
        items = value.get(key)
        if isinstance(items, list) and items:
            parts.append(f"{len(items)} {key if len(items) != 1 else key[:-1]}")
    return f" ({', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class Described:
    """One change in words: its line, the diff lines under it (a changed text) and the details
    listed under it (a changed structure: an API call's parts, plugin fields, ...)."""

    line: str
    diff: list[str] = field(default_factory=list)
    details: list[Detail] = field(default_factory=list)


def describe_change(
    change: Change, s: Style, o: RenderOptions, refs: set[str], lookup: Lookup | None = None
) -> Described:
    """One change as a line, with what to show under it."""
    where = _where(change, s)
    if change.cosmetic:
        return Described(
            f"Layout (cosmetic, never a blocker): {s.text(change.after or 'moved', 200)}."
        )
    hidden = hides(change, refs)
    if change.kind in ("added", "removed"):
        value = change.after if change.kind == "added" else change.before
        return Described(f"{where}: {change.kind}{'' if hidden else _summary(value, s)}")
    if hidden:
        return Described(f"{where}: {_field(change, s) or 'value'} changed {CONCEALED}")
    explained = explain(change, s, lookup or Lookup(), o.excerpts)
    if explained is not None:
        head, details = explained
        if not head and len(details) == 1 and not details[0].diff:  # one detail: one line
            return Described(f"{where}: {details[0].text}")
        return Described(f"{where}: {head or 'changed'}", details=details)
    label = _field(change, s) or "value"
    detail = transition(label, change.before, change.after, s, o.excerpts, verb=" changed")
    return Described(f"{where}: {detail.text}", list(detail.diff))


def describe_breaking(change: Change, s: Style) -> str:
    """``<component> <what>: <why>``; a plan's ``breaking_reason`` reads ``<what>: <why>`` and the
    component named by the trail already says what, so only the why is kept from it."""
    last = change.trail[-1].kind if change.trail else ""
    reason = change.breaking_reason.split(": ", 1)[-1] if change.breaking_reason else ""
    why = reason or _BREAKING_WHY.get(last, "integrations that rely on it may break")
    what = change.kind
    if change.kind == "changed" and change.field:
        what = f"{_field(change, s)} changed"
        if not isinstance(change.before, dict | list) and not isinstance(change.after, dict | list):
            what += f" from {quote(change.before, s)} to {quote(change.after, s)}"
    return f"{_where(change, s)} {what}: {s.ours(why)}"


def _what(changes: list[Change], s: Style) -> str:
    """A short list of what differs: ``step *Triage* title, action *Call* removed``."""
    names = []
    for change in changes[:3]:
        head = _component(change.trail[-1], s) if change.trail else s.code(change.path)
        names.append(
            f"{head} {_field(change, s) if change.kind == 'changed' else change.kind}".strip()
        )
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return ", ".join(names) + more


def _when(at: str) -> str:
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return flatten(at, 40)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _edit(edit: LiveEdit, environment: str, s: Style) -> str:
    how = " as a hotfix" if edit.hotfix else " (not marked as a hotfix)"
    via = f" via {s.text(edit.edit_source, 40)}" if edit.edit_source else ""
    user = s.text(edit.user or "an unknown user", 60)
    return f"edited in {s.code(environment)} by {user} at {_when(edit.at)}{via}{how}, revision {edit.revision}"


def consequence(flow: FlowPlan, environment: str, s: Style, overwriting: bool = False) -> str:
    """What syncer will do about the flow, and the command that changes it; ``overwriting`` when
    this run was asked to overwrite the flow's drift or conflict (``apply --overwrite-drift``)."""
    env, key = command_arg(environment), command_arg(flow.key)
    backport = f"`syncer backport --env {env} --flow {key}`"
    overwrite = f"`syncer apply --env {env} --flow {key} --overwrite-drift`"
    if overwriting and flow.status in (Status.DRIFT, Status.CONFLICT):
        editors = ", ".join(sorted({e.user for e in flow.live_edits if e.user})) or "unknown"
        return s.ours(
            f"syncer overwrites it now, as --overwrite-drift asks: Production's edit (by {editors}) "
            f"is discarded and Git's version is written. To keep the edit instead, stop here and "
            f"run {backport}."
        )
    words = {
        Status.DRIFT: "syncer will not overwrite it. To keep the hotfix, run "
        f"{backport} and merge that pull request; to discard it, run {overwrite}.",
        Status.CONFLICT: "Production and Git both changed since the last apply; syncer will apply "
        f"neither. Run {backport}, merge the hotfix into this change, then apply; or discard "
        f"Production's edit with {overwrite}.",
        Status.UNMANAGED: "The flow exists in the tenant but syncer did not create it; nothing is "
        f"written until `syncer apply --env {env} --flow {key} --adopt` takes it over.",
        Status.ORPHANED: "syncer manages this flow in the tenant but it is gone from Git. syncer "
        f"never deletes flows: remove it in the tenant by hand, or restore `flows/{key}/flow.yaml`.",
        Status.CREATE: "syncer will create it on apply (working version only; `syncer publish` "
        "is a separate step).",
        Status.UPDATE: "syncer will update the working version on apply (never published; "
        "`syncer publish` is a separate step).",
        Status.UNTRACKED: f"Only in {env}, never written by syncer, so syncer leaves it alone. "
        f"To manage it from Git, copy it into Sandbox once with `syncer bootstrap --from {env} "
        f"--to SANDBOX --flow {key}` and export it.",
        Status.IN_SYNC: "Nothing to do.",
    }
    return s.ours(words[flow.status])


def command_arg(value: str) -> str:
    """A name placed in a suggested command: one line, no backtick to break the code span."""
    return flatten(value, 80).replace("`", "'")


def who_edited(flow: FlowPlan, environment: str, s: Style) -> list[str]:
    """Who edited Production and when; a single edit also says what differs."""
    label = "Drift" if flow.status is Status.DRIFT else "Conflict"
    if not flow.live_edits:
        return [
            f"{s.bold(label + ':')} Production differs from what syncer last wrote "
            f"(no edit history available): {_what(flow.changes, s)}."
        ]
    if len(flow.live_edits) == 1:
        return [
            f"{s.bold(label + ':')} {_edit(flow.live_edits[0], environment, s)}: "
            f"{_what(flow.changes, s)}."
        ]
    lines = [
        f"{s.bold(label + ':')} Production was edited {len(flow.live_edits)} times since "
        f"syncer last wrote it; it now differs from Git in {_what(flow.changes, s)}."
    ]
    return lines + [f"- {_edit(edit, environment, s)}" for edit in flow.live_edits]


def change_sections(flow: FlowPlan) -> list[tuple[str, list[Change]]]:
    """The flow's change lists, titled, breaking and cosmetic changes taken out."""
    plain = [c for c in flow.changes if not c.breaking and not c.cosmetic]
    if flow.status is Status.CONFLICT:
        git = [c for c in flow.git_side if not c.breaking and not c.cosmetic]
        return [
            ("Production's edits (Git → Production)", plain),
            ("Git's changes since the last apply", git),
        ]
    titles = {
        Status.DRIFT: "What differs from Git (Git → Production)",
        Status.UNMANAGED: "What adopting would change",
        Status.ORPHANED: "Changes",
    }
    return [(titles.get(flow.status, "Changes on apply"), plain)]


def capped(items: list[Any], o: RenderOptions) -> tuple[list[Any], int]:
    """The items to show under ``o.cap``, and how many were left out."""
    if o.cap is None or len(items) <= o.cap:
        return items, 0
    return items[: o.cap], len(items) - o.cap


def raw_text(value: Any) -> str:
    """A constant's value as text (JSON for anything but a string), not yet made safe to show."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


HOLD_TITLES = {
    HoldKind.VERIFY: "Commit not verified: nothing planned or written",
    HoldKind.WINDOW: "Writes held by a sync window",
    HoldKind.UNTRUSTED: "Not contacted: new in this change",
}
SETTINGS_TITLE = "Environment settings this change edits (review them)"


def uncommitted_note(plan: EnvironmentPlan) -> str:
    """The work tree files the plan read that are not committed (empty when there are none)."""
    if not plan.uncommitted:
        return ""
    more = f" and {len(plan.uncommitted) - 10} more" if len(plan.uncommitted) > 10 else ""
    return (
        f"Planned from the work tree, with uncommitted changes: {', '.join(plan.uncommitted[:10])}"
        f"{more}. apply and reconcile refuse them unless --allow-dirty."
    )
