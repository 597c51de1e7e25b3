"""The plan for a terminal: plain text, or ANSI colours. Pure."""

from __future__ import annotations

from ..model import EnvironmentPlan, FlowPlan, HoldKind, Status
from .details import Lookup
from .safe_text import Style, flatten
from .words import (
    CONCEALED,
    HOLD_TITLES,
    LISTED,
    ORDER,
    SETTINGS_TITLE,
    RenderOptions,
    change_sections,
    concealed_refs,
    consequence,
    describe_breaking,
    describe_change,
    is_breaking,
    ordered,
    raw_text,
    uncommitted_note,
    who_edited,
)

_PAINT = {
    Status.CONFLICT: "red",
    Status.DRIFT: "yellow",
    Status.UNMANAGED: "yellow",
    Status.ORPHANED: "yellow",
    Status.CREATE: "green",
    Status.UPDATE: "cyan",
    Status.UNTRACKED: "dim",
    Status.IN_SYNC: "dim",
}


def render_text(
    plans: list[EnvironmentPlan], *, color: bool = False, overwriting: str | None = None
) -> str:
    """The plan for a terminal: plain text, or ANSI colours when ``color``; ``overwriting`` names the
    flow whose drift this run overwrites (``apply --overwrite-drift``)."""
    style = Style(markdown=False, color=color)
    lines = [line for plan in plans for line in _text_environment(plan, style, overwriting)]
    return "\n".join(lines).rstrip() + "\n" if lines else "No environments were planned.\n"


def render_flow_text(flow: FlowPlan, environment: str) -> list[str]:
    """One flow's verdict in words, plain lines (the status page shows them)."""
    return [line.strip() for line in _text_flow(flow, environment, Style(markdown=False), False)]


def _text_environment(plan: EnvironmentPlan, s: Style, overwriting: str | None) -> list[str]:
    counts = plan.summary()
    commit = f" (git {flatten(plan.git_commit[:12])})" if plan.git_commit else ""
    lines = [
        s.bold(flatten(plan.environment) + commit),
        "  " + " · ".join(f"{status.value} {counts[status.value]}" for status in ORDER),
    ]
    lines += [f"  {s.paint('error:', 'red')} {flatten(e, 500)}" for e in plan.errors]
    lines += _environment_notes(plan, s)
    flows = ordered(plan.flows)
    for flow in flows:
        if flow.status not in LISTED:
            lines += ["", *_text_flow(flow, plan.environment, s, flow.key == overwriting)]
    untracked = [flatten(f.key) for f in flows if f.status is Status.UNTRACKED]
    if untracked:
        note = f"only in {flatten(plan.environment)}, never written by syncer; left alone"
        lines += ["", s.paint(f"  untracked ({note}): {', '.join(untracked)}", "dim")]
    in_sync = [flatten(f.key) for f in flows if f.status is Status.IN_SYNC]
    if in_sync:
        lines += ["", s.paint(f"  in sync: {', '.join(in_sync)}", "dim")]
    return [*lines, ""]


def _environment_notes(plan: EnvironmentPlan, s: Style) -> list[str]:
    """Why writes are held, the trust settings the reviewed change edits, uncommitted files read."""
    lines = []
    if plan.hold is not None:
        colour = "yellow" if plan.hold.kind is HoldKind.WINDOW else "red"
        title = s.paint(HOLD_TITLES[plan.hold.kind] + ":", colour)
        lines.append(f"  {title} {s.ours(plan.hold.message, 800)}")
    if plan.environment_changes:
        lines.append(f"  {s.paint(SETTINGS_TITLE + ':', 'yellow')}")
        lines += [
            f"    {flatten(c.field)}: base {flatten(c.base, 200)} -> this change "
            f"{flatten(c.head, 200)} ({flatten(c.note, 300)})"
            for c in plan.environment_changes
        ]
    note = uncommitted_note(plan)
    if note:
        lines.append(f"  {s.paint('uncommitted:', 'yellow')} {flatten(note, 800)}")
    return lines


def _text_flow(flow: FlowPlan, environment: str, s: Style, overwriting: bool) -> list[str]:
    o, refs = RenderOptions(diagrams=False), concealed_refs(flow)
    lookup = Lookup.of(flow, refs)
    status = s.paint(f"{flow.status.value.upper():<10}", _PAINT[flow.status])
    badge = s.paint(" BREAKING", "red") if is_breaking(flow) else ""
    lines = [f"  {status}{flatten(flow.key)}  {s.name(flow.title)}{badge}"]
    lines += [f"    {s.ours(flow.reason)}"] if flow.reason else []
    for change in [c for c in flow.changes + flow.git_side if c.breaking]:
        lines.append(f"    {s.paint('! breaking:', 'red')} {describe_breaking(change, s)}")
    if flow.status in (Status.DRIFT, Status.CONFLICT):
        lines += [f"    {line}" for line in who_edited(flow, environment, s)]
    for heading, changes in change_sections(flow):
        lines += [f"    {heading}:"] if changes and flow.status is Status.CONFLICT else []
        for change in changes:
            described = describe_change(change, s, o, refs, lookup)
            mark = {"added": "+", "removed": "-"}.get(change.kind, "~")
            lines.append(f"    {mark} {described.line}")
            lines += [f"        {_paint_diff(d, s)}" for d in described.diff]
            for detail in described.details:
                lines.append(f"        · {detail.text}")
                lines += [f"            {_paint_diff(d, s)}" for d in detail.diff]
    lines += [f"    · {describe_change(c, s, o, refs).line}" for c in flow.changes if c.cosmetic][
        :1
    ]
    for d in flow.constants:
        value = (
            CONCEALED
            if d.concealed
            else flatten(raw_text(d.value), 60)
            if d.value is not None
            else ""
        )
        note = f" — {flatten(d.note, 160)}" if d.missing_source else ""
        lines.append(
            f"    constant {flatten(d.key)}: {d.decision.value}{' ' + value if value else ''}{note}"
        )
    return [*lines, f"    {consequence(flow, environment, s, overwriting)}"]


def _paint_diff(line: str, s: Style) -> str:
    colour = {"+": "green", "-": "red"}.get(line[:1])
    return s.paint(line, colour) if colour else line
