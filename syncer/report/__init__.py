"""Renderings of a plan: Markdown for pull requests, text for terminals, JSON for machines. Pure.

Markdown (SPEC 8), per environment: a hidden marker that identifies the comment, a summary table, then
each flow, most urgent first (conflict, drift, breaking, unmanaged, orphaned, create, update; in-sync
flows collapsed into one line). Within a flow: breaking changes first, then who edited Production and
what syncer will do about it, the changes in words, one cosmetic line for layout, the constants
decisions and a Mermaid diagram of each changed track. Too long for a comment, it shortens itself in
steps (diagrams, long excerpts, details of quiet flows, long lists) and says so at the top.

Everything a user typed (titles, keys, values, user names) is untrusted: it is flattened to one line,
stripped of control characters, HTML-escaped, Markdown-escaped and length-capped before it is placed in
text or a table cell; code spans and fences are sized so that content cannot close them. A concealed
value is never read: constants render from ``ConstantDecision`` (which never holds one), the flow
documents are only used for diagrams (titles and rules), and a change that touches a concealed item
shows ``(concealed)``.

This module holds the public API and the Markdown; the escaping is in ``safe_text``, the words both
renderings share in ``report_words``, and the terminal text in ``report_text``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..model import Change, ConstantDecision, EnvironmentPlan, FlowPlan, HoldKind, Status
from . import mermaid
from .details import Lookup
from .safe_text import Style, code_span, html_text, md
from .text import render_text
from .words import (
    CAP,
    CONCEALED,
    HOLD_TITLES,
    LISTED,
    ORDER,
    SETTINGS_TITLE,
    RenderOptions,
    capped,
    change_sections,
    command_arg,
    concealed_refs,
    consequence,
    describe_breaking,
    describe_change,
    hides,
    is_breaking,
    ordered,
    raw_text,
    uncommitted_note,
    who_edited,
)

__all__ = [
    "GITHUB_LIMIT",
    "headline",
    "is_breaking",
    "ordered",
    "render_environment_markdown",
    "render_json",
    "render_markdown",
    "render_text",
    "report_marker",
]

GITHUB_LIMIT = 65536
_NEEDS_PERSON = ORDER[:4]


_SHORTENING: tuple[tuple[RenderOptions, str], ...] = (
    (RenderOptions(diagrams=False), "diagrams omitted"),
    (RenderOptions(diagrams=False, excerpts=False), "diagrams and long excerpts omitted"),
    (
        RenderOptions(diagrams=False, excerpts=False, collapse=True),
        "diagrams, long excerpts and the details of flows without drift or conflict omitted",
    ),
    (
        RenderOptions(diagrams=False, excerpts=False, collapse=True, cap=CAP),
        f"diagrams, long excerpts and details omitted, and every list cut to {CAP} items",
    ),
)


# -- public API -------------------------------------------------------------------------------------


def report_marker(environment: str) -> str:
    """The hidden comment that identifies one environment's report on a pull request."""
    safe = re.sub(r"[^A-Za-z0-9._,-]", "_", environment).replace("--", "-_")
    return f"<!-- syncer-report:env={safe} -->"


def render_markdown(
    plans: list[EnvironmentPlan],
    *,
    limit: int = GITHUB_LIMIT,
    title: str | None = None,
    overwriting: str | None = None,
) -> str:
    """All environments in one Markdown document of at most ``limit`` characters; ``overwriting``
    names the flow whose drift this run overwrites (``apply --overwrite-drift``)."""
    marker = report_marker(",".join(p.environment for p in plans) or "none")
    heading = f"# {md(title)}" if title else ""
    options = RenderOptions(overwriting=overwriting)
    return _fit(lambda o: _document(marker, heading, plans, o, limit), limit, options)


def render_environment_markdown(plan: EnvironmentPlan, limit: int = GITHUB_LIMIT) -> str:
    """One environment's report, as posted in its own pull-request comment (marker first)."""
    marker = report_marker(plan.environment)
    return _fit(lambda o: _document(marker, "", [plan], o, limit), limit)


def render_json(plans: list[EnvironmentPlan]) -> str:
    """SPEC 7: one object for one environment, an array for several."""
    data = [_redacted_json(plan) for plan in plans]
    payload: Any = data[0] if len(data) == 1 else data
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"


def _redacted_json(plan: EnvironmentPlan) -> dict[str, Any]:
    data = plan.to_json()
    for flow, flow_json in zip(plan.flows, data["flows"], strict=True):
        refs = concealed_refs(flow)
        for name, changes in (("changes", flow.changes), ("git_side", flow.git_side)):
            for change, change_json in zip(changes, flow_json.get(name, []), strict=False):
                if hides(change, refs):
                    for side in ("before", "after"):
                        if change_json.get(side) is not None:
                            change_json[side] = CONCEALED
    return data


# -- Markdown ---------------------------------------------------------------------------------------


_FULL = RenderOptions()


def _fit(render: Callable[[RenderOptions], str], limit: int, full: RenderOptions = _FULL) -> str:
    """Render in full, then shorten step by step until the text fits; say what was left out."""
    text = render(full)
    for options, what in _SHORTENING:
        if len(text) <= limit:
            return text
        text = _with_note(
            render(replace(options, overwriting=full.overwriting)), _note(what, limit)
        )
    if len(text) <= limit:
        return text
    what = f"{_SHORTENING[-1][1]}, and the least urgent flows cut off (run `syncer plan` for all)"
    last = replace(_SHORTENING[-1][0], overwriting=full.overwriting)
    return _hard_truncate(_with_note(render(last), _note(what, limit)), limit)


def _note(what: str, limit: int) -> str:
    return f"> **Note:** report shortened: {what} to fit GitHub's {limit:,}-character limit."


def _with_note(text: str, note: str) -> str:
    """The note goes right under the marker, where a reader sees it first."""
    marker, _, rest = text.partition("\n")
    return f"{marker}\n{note}\n\n{rest}"


def _hard_truncate(text: str, limit: int) -> str:
    """Last resort: cut at a line end and close any open ``<details>`` so the rest still renders.

    Flows are ordered most urgent first, so what is cut off is what matters least. No fence can be
    open here: the shortened renderings have neither diagrams nor diff blocks.
    """
    ending = "\n\n*… cut off here.*\n"
    cut = text[: max(0, limit - len(ending) - len("\n</details>") * 4)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    opened = min(4, max(0, cut.count("<details>") - cut.count("</details>")))
    return (cut + "\n</details>" * opened + ending)[:limit]


def _document(
    marker: str, heading: str, plans: list[EnvironmentPlan], o: RenderOptions, budget: int
) -> str:
    """The whole Markdown document. Rendering stops early once it is past ``budget`` characters:
    such a text is refused by ``_fit`` (or cut by ``_hard_truncate``) anyway."""
    s = Style(markdown=True)
    lines = [marker, *([heading, ""] if heading else [])]
    if not plans:
        lines.append("No environments were planned.")
    for plan in plans:
        lines.extend(_md_environment(plan, s, o, budget - sum(len(line) + 1 for line in lines)))
    return "\n".join(lines).rstrip() + "\n"


def _md_environment(plan: EnvironmentPlan, s: Style, o: RenderOptions, budget: int) -> list[str]:
    counts = plan.summary()
    commit = f" at Git commit {code_span(plan.git_commit[:12])}" if plan.git_commit else ""
    lines = [
        f"## syncer: {code_span(plan.environment)}{commit}",
        "",
        "| " + " | ".join(status.value for status in ORDER) + " |",
        "|" + "---:|" * len(ORDER),
        "| " + " | ".join(str(counts[status.value]) for status in ORDER) + " |",
        "",
        _headline(plan),
        "",
    ]
    lines += [f"- **Error:** {md(error, 500)}" for error in plan.errors]
    lines += [""] if plan.errors else []
    lines += _md_environment_notes(plan, s)
    flows = ordered(plan.flows)
    size = sum(len(line) + 1 for line in lines)
    for flow in flows:
        if size > budget:
            return lines
        if flow.status not in LISTED:
            section = _md_flow(flow, plan.environment, s, o)
            lines += section
            size += sum(len(line) + 1 for line in section)
    return lines + _md_listed(flows, plan.environment, o)


def _md_listed(flows: list[FlowPlan], environment: str, o: RenderOptions) -> list[str]:
    """Untracked and in-sync flows, by name: one line each, nothing to do about them."""
    lines = []
    for status, label in ((Status.UNTRACKED, "Untracked"), (Status.IN_SYNC, "In sync")):
        keys, hidden = capped([f.key for f in flows if f.status is status], o)
        if not keys:
            continue
        more = f" and {hidden} more" if hidden else ""
        names = ", ".join(code_span(k) for k in keys)
        lines.append(f"**{label}** ({len(keys) + hidden}): {names}{more}")
        if status is Status.UNTRACKED:
            lines.append("")
            lines.append(Style(markdown=True).ours(_untracked_note(environment)))
        lines.append("")
    return lines


def _untracked_note(environment: str) -> str:
    env = command_arg(environment)
    return (
        f"Untracked flows exist only in {env} (made there, never written by syncer) and are not in "
        "Git; syncer never touches them. To manage one from Git, copy it into Sandbox once with "
        f"`syncer bootstrap --from {env} --to SANDBOX --flow KEY` and export it."
    )


def headline(plan: EnvironmentPlan) -> str:
    """The report's first line, as plain text: what needs a person and what apply would write."""
    return _headline(plan).replace("**", "")


def _md_environment_notes(plan: EnvironmentPlan, s: Style) -> list[str]:
    """Why writes are held, the trust settings the reviewed change edits, uncommitted files read."""
    lines = []
    if plan.hold is not None:
        icon = "⏸️" if plan.hold.kind is HoldKind.WINDOW else "⛔"
        title = HOLD_TITLES[plan.hold.kind]
        lines += [f"> **{icon} {title}:** {s.ours(plan.hold.message, 800)}", ""]
    if plan.environment_changes:
        lines += [
            f"**⚠️ {SETTINGS_TITLE}:**",
            "",
            "| setting | base (trusted) | this change | what syncer did |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {code_span(c.field)} | {code_span(c.base, 200)} | {code_span(c.head, 200)} "
            f"| {md(c.note, 300)} |"
            for c in plan.environment_changes
        ]
        lines.append("")
    note = uncommitted_note(plan)
    if note:
        lines += [f"> **Uncommitted:** {md(note, 800)}", ""]
    return lines


def _headline(plan: EnvironmentPlan) -> str:
    counts = plan.summary()
    person = [f"{counts[x.value]} {x.value}" for x in _NEEDS_PERSON if counts[x.value]]
    writes = counts["create"] + counts["update"]
    breaking = sum(1 for f in plan.flows if is_breaking(f))
    parts = [f"**Needs a person:** {', '.join(person)}." if person else "Nothing needs a person."]
    parts.append(f"Apply would write {writes} flow{'' if writes == 1 else 's'} (never publishes).")
    if counts["untracked"]:
        n = counts["untracked"]
        parts.append(f"{n} flow{' is' if n == 1 else 's are'} only in the tenant (untracked).")
    if breaking:
        parts.append(
            f"**Breaking for integrations:** {breaking} flow{'' if breaking == 1 else 's'}."
        )
    return " ".join(parts)


def _md_flow(flow: FlowPlan, environment: str, s: Style, o: RenderOptions) -> list[str]:
    status = flow.status.value.replace("_", " ").capitalize()
    badge = " · breaking" if is_breaking(flow) else ""
    name = f"{s.name(flow.title)} ({code_span(flow.key)})" if flow.title else code_span(flow.key)
    lines = [f"### {status}{badge}: {name}", ""]
    if flow.reason:
        lines += [s.ours(flow.reason), ""]
    refs = concealed_refs(flow)
    lookup = Lookup.of(flow, refs)
    lines += _md_list(
        "⚠️ Breaking for integrations",
        [c for c in flow.changes + flow.git_side if c.breaking],
        s,
        o,
        lookup,
        breaking=True,
    )
    if flow.status in (Status.DRIFT, Status.CONFLICT):
        lines += [*who_edited(flow, environment, s), ""]
    lines += [consequence(flow, environment, s, flow.key == o.overwriting), ""]
    quiet = o.collapse and flow.status not in (Status.DRIFT, Status.CONFLICT)
    for heading, changes in change_sections(flow):
        if quiet and changes:
            command = code_span(
                f"syncer plan --env {command_arg(environment)} --flow {command_arg(flow.key)}"
            )
            plural = "s" if len(changes) != 1 else ""
            lines += [f"{len(changes)} change{plural} (details omitted to fit; run {command}).", ""]
        else:
            lines += _md_list(heading, changes, s, o, lookup)
    cosmetic = [describe_change(c, s, o, refs).line for c in flow.changes if c.cosmetic][:1]
    lines += [*cosmetic, ""] if cosmetic else []
    lines += _md_constants(flow.constants, s, o)
    if o.diagrams:
        lines += _md_diagrams(flow)
    return lines


def _md_list(
    heading: str,
    changes: list[Change],
    s: Style,
    o: RenderOptions,
    lookup: Lookup,
    breaking: bool = False,
) -> list[str]:
    if not changes:
        return []
    shown, hidden = capped(changes, o)
    lines = [f"**{heading}**", ""]
    for change in shown:
        if breaking:
            lines.append(f"- {describe_breaking(change, s)}")
            continue
        described = describe_change(change, s, o, set(lookup.concealed), lookup)
        lines.append(f"- {described.line}")
        lines += _md_diff(described.diff, "  ")
        for detail in described.details:
            lines.append(f"  - {detail.text}")
            lines += _md_diff(list(detail.diff), "    ")
    lines += [f"- … and {hidden} more"] if hidden else []
    return [*lines, ""]


def _md_diff(diff: list[str], indent: str) -> list[str]:
    """Diff lines in a fence that no line of them can close."""
    if not diff:
        return []
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", "\n".join(diff))), default=0) + 1)
    return [f"{indent}{fence}diff", *(f"{indent}{d}" for d in diff), f"{indent}{fence}"]


def _md_constants(decisions: list[ConstantDecision], s: Style, o: RenderOptions) -> list[str]:
    if not decisions:
        return []
    if o.collapse:
        changed = sum(1 for d in decisions if d.changed)
        return [
            f"Constants and settings: {len(decisions)} decisions, {changed} change the "
            "destination (details omitted to fit).",
            "",
        ]
    shown, hidden = capped(decisions, o)
    lines = [
        "**Constants and settings**",
        "",
        "| key | decision | value | changes destination |",
        "|---|---|---|---|",
    ]
    for d in shown:
        value = (
            CONCEALED if d.concealed else (md(raw_text(d.value), 60) if d.value is not None else "")
        )
        note = f" ({md(d.note, 120)})" if d.note else ""
        lines.append(
            f"| {code_span(d.key)} | {d.decision.value}{note} | {value} | "
            f"{'yes' if d.changed else 'no'} |"
        )
    lines += [f"| … {hidden} more | | | |"] if hidden else []
    return [*lines, ""]


def _md_diagrams(flow: FlowPlan) -> list[str]:
    lines = []
    for title, chart in mermaid.flow_diagrams(flow):
        lines += [
            f"<details><summary>Diagram: track {html_text(title, 80)} "
            "(green added, amber changed, red removed)</summary>",
            "",
            "```mermaid",
            chart.rstrip("\n"),
            "```",
            "",
            "</details>",
            "",
        ]
    return lines
