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
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import mermaid
from .model import (
    Change,
    Component,
    ConstantDecision,
    EnvironmentPlan,
    FlowPlan,
    LiveEdit,
    Status,
    iter_value_items,
)

GITHUB_LIMIT = 65536
TITLE_LIMIT = 100  # characters of a title or key shown anywhere
EXCERPT_LIMIT = 80  # characters of a before/after value shown inline
DIFF_LINES = 12  # lines of a multi-line diff shown
CAP = 20  # items per list once lists are capped to fit
CONCEALED = "(concealed)"

ORDER = (
    Status.CONFLICT,
    Status.DRIFT,
    Status.UNMANAGED,
    Status.ORPHANED,
    Status.CREATE,
    Status.UPDATE,
    Status.IN_SYNC,
)
_NEEDS_PERSON = ORDER[:4]
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
# Parentheses and ``!`` are left alone: they only matter next to ``[``/``]``, which are escaped.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_ANSI = {"red": "31", "yellow": "33", "green": "32", "cyan": "36", "dim": "2", "bold": "1"}
_PAINT = {
    Status.CONFLICT: "red",
    Status.DRIFT: "yellow",
    Status.UNMANAGED: "yellow",
    Status.ORPHANED: "yellow",
    Status.CREATE: "green",
    Status.UPDATE: "cyan",
    Status.IN_SYNC: "dim",
}


# -- escaping ---------------------------------------------------------------------------------------


def flatten(value: object, limit: int = TITLE_LIMIT) -> str:
    """One line, no control or bidi characters, at most ``limit`` characters (``…`` marks a cut)."""
    return mermaid.flatten(value, limit)


def _html(value: object, limit: int = TITLE_LIMIT) -> str:
    """User text inside raw HTML (``<summary>``): entities for HTML and for Markdown syntax alike,
    since GitHub may or may not run Markdown there."""
    text = flatten(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"[\\`*_\[\]#|~$\"']", lambda m: f"&#{ord(m.group())};", text)
    return text.replace("@", "@\u2060")


def md(value: object, limit: int = TITLE_LIMIT) -> str:
    """User text for Markdown inline text or a table cell: HTML neutralised, syntax escaped.

    ``@`` gets a word joiner so a title like ``@org/team`` never notifies anyone.
    """
    return _escape(flatten(value, limit))


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text).replace("@", "@\u2060")


def code_span(value: object, limit: int = TITLE_LIMIT) -> str:
    """A code span the content cannot close; ``|`` escaped so it is also safe in a table cell."""
    text = flatten(value, limit).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_with_code(value: str, limit: int = 400) -> str:
    """Text we wrote with `code` parts (breaking reasons, notes): code parts kept, the rest escaped."""
    parts = flatten(value, limit).split("`")
    return "".join(code_span(p) if i % 2 else _escape(p) for i, p in enumerate(parts))


@dataclass(frozen=True)
class _Style:
    """Markdown or terminal text: how a name, a value, a command or a colour is written."""

    markdown: bool
    color: bool = False

    def name(self, value: object) -> str:
        if not flatten(value):
            return "(untitled)"  # ``**`` would render as two literal stars
        return f"*{md(value)}*" if self.markdown else f"“{flatten(value)}”"

    def text(self, value: object, limit: int = TITLE_LIMIT) -> str:
        return md(value, limit) if self.markdown else flatten(value, limit)

    def code(self, value: object) -> str:
        return code_span(value) if self.markdown else flatten(value)

    def ours(self, value: str) -> str:
        return _md_with_code(value) if self.markdown else flatten(value, 400).replace("`", "")

    def bold(self, value: str) -> str:
        return f"**{value}**" if self.markdown else self.paint(value, "bold")

    def paint(self, value: str, colour: str) -> str:
        return f"\x1b[{_ANSI[colour]}m{value}\x1b[0m" if self.color and not self.markdown else value


@dataclass(frozen=True)
class _Options:
    """How much detail to render; shortening switches these off one by one."""

    diagrams: bool = True
    excerpts: bool = True
    collapse: bool = False
    cap: int | None = None


_SHORTENING: tuple[tuple[_Options, str], ...] = (
    (_Options(diagrams=False), "diagrams omitted"),
    (_Options(diagrams=False, excerpts=False), "diagrams and long excerpts omitted"),
    (
        _Options(diagrams=False, excerpts=False, collapse=True),
        "diagrams, long excerpts and the details of flows without drift or conflict omitted",
    ),
    (
        _Options(diagrams=False, excerpts=False, collapse=True, cap=CAP),
        f"diagrams, long excerpts and details omitted, and every list cut to {CAP} items",
    ),
)


# -- public API -------------------------------------------------------------------------------------


def report_marker(environment: str) -> str:
    """The hidden comment that identifies one environment's report on a pull request."""
    safe = re.sub(r"[^A-Za-z0-9._,-]", "_", environment).replace("--", "-_")
    return f"<!-- syncer-report:env={safe} -->"


def ordered(flows: Iterable[FlowPlan]) -> list[FlowPlan]:
    """Most urgent first: conflict, drift, breaking, unmanaged, orphaned, create, update, in sync."""

    def urgency(flow: FlowPlan) -> tuple[float, str]:
        rank: float = ORDER.index(flow.status)
        return (1.5 if is_breaking(flow) and rank > 1 else rank), flow.key

    return sorted(flows, key=urgency)


def is_breaking(flow: FlowPlan) -> bool:
    """Whether a flow's plan breaks an integration (flag or any breaking change)."""
    return flow.breaking or any(c.breaking for c in [*flow.changes, *flow.git_side])


def render_markdown(
    plans: list[EnvironmentPlan], *, limit: int = GITHUB_LIMIT, title: str | None = None
) -> str:
    """All environments in one Markdown document of at most ``limit`` characters."""
    marker = report_marker(",".join(p.environment for p in plans) or "none")
    heading = f"# {md(title)}" if title else ""
    return _fit(lambda o: _document(marker, heading, plans, o, limit), limit)


def render_environment_markdown(plan: EnvironmentPlan, limit: int = GITHUB_LIMIT) -> str:
    """One environment's report, as posted in its own pull-request comment (marker first)."""
    marker = report_marker(plan.environment)
    return _fit(lambda o: _document(marker, "", [plan], o, limit), limit)


def render_text(plans: list[EnvironmentPlan], *, color: bool = False) -> str:
    """The plan for a terminal: plain text, or ANSI colours when ``color``."""
    style = _Style(markdown=False, color=color)
    lines = [line for plan in plans for line in _text_environment(plan, style)]
    return "\n".join(lines).rstrip() + "\n" if lines else "No environments were planned.\n"


def render_json(plans: list[EnvironmentPlan]) -> str:
    """SPEC 7: one object for one environment, an array for several."""
    data = [_redacted_json(plan) for plan in plans]
    payload: Any = data[0] if len(data) == 1 else data
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"


# -- concealed values -------------------------------------------------------------------------------


def _concealed_refs(flow: FlowPlan) -> set[str]:
    """Keys, refs and ids of every concealed constant or setting the flow knows of."""
    refs = {c.key for c in flow.constants if c.concealed}
    for document in (flow.desired, flow.live):
        for ref, item in iter_value_items(document or {}):
            if item.get("concealed"):
                refs.update({ref, str(item.get("id", ref))})
    return refs


def _hides(change: Change, refs: set[str]) -> bool:
    """Whether a change touches a concealed item, so its values must not be shown."""
    named = any(c.key in refs or c.id in refs for c in change.trail)
    flagged = any(isinstance(v, dict) and v.get("concealed") for v in (change.before, change.after))
    return named or flagged or any(ref and ref in change.path for ref in refs)


def _redacted_json(plan: EnvironmentPlan) -> dict[str, Any]:
    data = plan.to_json()
    for flow, flow_json in zip(plan.flows, data["flows"], strict=True):
        refs = _concealed_refs(flow)
        for name, changes in (("changes", flow.changes), ("git_side", flow.git_side)):
            for change, change_json in zip(changes, flow_json.get(name, []), strict=False):
                if _hides(change, refs):
                    for side in ("before", "after"):
                        if change_json.get(side) is not None:
                            change_json[side] = CONCEALED
    return data


# -- changes in words (shared by Markdown and text) -------------------------------------------------


def _component(component: Component, s: _Style) -> str:
    kind = _KINDS.get(component.kind, component.kind.replace("_", " "))
    name = s.name(component.title) if component.title else s.code(component.key or component.id)
    kind_of = f" ({s.text(component.type, 40)})" if component.type else ""
    return f"{kind} {name}{kind_of}"


def _where(change: Change, s: _Style) -> str:
    if not change.trail:
        return s.text(change.description, 200) if change.description else s.code(change.path)
    words = " → ".join(_component(c, s) for c in change.trail)
    return words[:1].upper() + words[1:]


def _field(change: Change) -> str:
    return re.sub(r"[_.]+", " ", change.field).strip()


def _quote(value: Any, s: _Style, limit: int) -> str:
    if value is None or value == "":
        return "(none)"
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return f"“{s.text(raw, limit)}”"


def _focus(before: Any, after: Any, limit: int) -> tuple[Any, Any]:
    """Long single-line texts: show both around the first difference, not just their beginnings."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return before, after
    if max(len(before), len(after)) <= limit:
        return before, after
    common = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    start = max(0, common - limit // 4)

    def cut(text: str) -> str:
        return (
            ("…" if start else "")
            + text[start : start + limit]
            + ("…" if len(text) > start + limit else "")
        )

    return cut(before), cut(after)


def _diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
    # Inside a fence only control characters matter; indentation is kept, long lines are cut.
    body = [mermaid.CONTROL.sub(" ", line)[:160].rstrip() for line in list(lines)[2:]]
    body = ["…" if line.startswith("@@") else line for line in body[1:]]  # the first is a @@
    if len(body) > DIFF_LINES:
        body = [*body[:DIFF_LINES], f"… {len(body) - DIFF_LINES} more lines"]
    return body


def _summary(value: Any, s: _Style) -> str:
    """A compact summary of an added or removed component: what it holds, never its values."""
    if not isinstance(value, dict):
        return f": {_quote(value, s, EXCERPT_LIMIT)}" if value not in (None, "") else ""
    parts = []
    for key in _CHILD_LISTS:
        items = value.get(key)
        if isinstance(items, list) and items:
            parts.append(f"{len(items)} {key if len(items) != 1 else key[:-1]}")
    return f" ({', '.join(parts)})" if parts else ""


def _change(change: Change, s: _Style, o: _Options, refs: set[str]) -> tuple[str, list[str]]:
    """One change as a line, and diff lines to show under it (multi-line texts)."""
    where = _where(change, s)
    if change.cosmetic:
        return f"Layout (cosmetic, never a blocker): {s.text(change.after or 'moved', 200)}.", []
    hidden = _hides(change, refs)
    if change.kind in ("added", "removed"):
        value = change.after if change.kind == "added" else change.before
        return f"{where}: {change.kind}{'' if hidden else _summary(value, s)}", []
    line = f"{where}: {_field(change) or 'value'} changed"
    before, after = change.before, change.after
    if hidden:
        return f"{line} {CONCEALED}", []
    if isinstance(before, str) and isinstance(after, str) and ("\n" in before or "\n" in after):
        if o.excerpts:
            return line, _diff(before, after)
        return f"{line} ({before.count(chr(10)) + 1} → {after.count(chr(10)) + 1} lines)", []
    limit = EXCERPT_LIMIT if o.excerpts else 24
    before, after = _focus(before, after, limit)
    return f"{line}: {_quote(before, s, limit + 2)} → {_quote(after, s, limit + 2)}", []


def _breaking(change: Change, s: _Style) -> str:
    """``<component> <what>: <why>``; a plan's ``breaking_reason`` reads ``<what>: <why>`` and the
    component named by the trail already says what, so only the why is kept from it."""
    last = change.trail[-1].kind if change.trail else ""
    reason = change.breaking_reason.split(": ", 1)[-1] if change.breaking_reason else ""
    why = reason or _BREAKING_WHY.get(last, "integrations that rely on it may break")
    what = f"{_field(change)} changed" if change.kind == "changed" and change.field else change.kind
    return f"{_where(change, s)} {what}: {s.ours(why)}"


def _what(changes: list[Change], s: _Style) -> str:
    """A short list of what differs: ``step *Triage* title, action *Call* removed``."""
    names = []
    for change in changes[:3]:
        head = _component(change.trail[-1], s) if change.trail else s.code(change.path)
        names.append(
            f"{head} {_field(change) if change.kind == 'changed' else change.kind}".strip()
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


def _edit(edit: LiveEdit, environment: str, s: _Style) -> str:
    how = " as a hotfix" if edit.hotfix else " (not marked as a hotfix)"
    via = f" via {s.text(edit.edit_source, 40)}" if edit.edit_source else ""
    user = s.text(edit.user or "an unknown user", 60)
    return f"edited in {s.code(environment)} by {user} at {_when(edit.at)}{via}{how}, revision {edit.revision}"


def _consequence(flow: FlowPlan, environment: str, s: _Style) -> str:
    env, key = _arg(environment), _arg(flow.key)
    backport = f"`syncer backport --env {env} --flow {key}`"
    overwrite = f"`syncer apply --env {env} --flow {key} --overwrite-drift`"
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
        Status.IN_SYNC: "Nothing to do.",
    }
    return s.ours(words[flow.status])


def _arg(value: str) -> str:
    """A name placed in a suggested command: one line, no backtick to break the code span."""
    return flatten(value, 80).replace("`", "'")


def _who(flow: FlowPlan, environment: str, s: _Style) -> list[str]:
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


def _sections(flow: FlowPlan) -> list[tuple[str, list[Change]]]:
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


def _capped(items: list[Any], o: _Options) -> tuple[list[Any], int]:
    if o.cap is None or len(items) <= o.cap:
        return items, 0
    return items[: o.cap], len(items) - o.cap


# -- Markdown ---------------------------------------------------------------------------------------


def _fit(render: Callable[[_Options], str], limit: int) -> str:
    """Render in full, then shorten step by step until the text fits; say what was left out."""
    text = render(_Options())
    for options, what in _SHORTENING:
        if len(text) <= limit:
            return text
        text = _with_note(render(options), _note(what, limit))
    if len(text) <= limit:
        return text
    what = f"{_SHORTENING[-1][1]}, and the least urgent flows cut off (run `syncer plan` for all)"
    return _hard_truncate(_with_note(render(_SHORTENING[-1][0]), _note(what, limit)), limit)


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
    marker: str, heading: str, plans: list[EnvironmentPlan], o: _Options, budget: int
) -> str:
    """The whole Markdown document. Rendering stops early once it is past ``budget`` characters:
    such a text is refused by ``_fit`` (or cut by ``_hard_truncate``) anyway."""
    s = _Style(markdown=True)
    lines = [marker, *([heading, ""] if heading else [])]
    if not plans:
        lines.append("No environments were planned.")
    for plan in plans:
        lines.extend(_md_environment(plan, s, o, budget - sum(len(line) + 1 for line in lines)))
    return "\n".join(lines).rstrip() + "\n"


def _md_environment(plan: EnvironmentPlan, s: _Style, o: _Options, budget: int) -> list[str]:
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
    flows = ordered(plan.flows)
    size = sum(len(line) + 1 for line in lines)
    for flow in flows:
        if size > budget:
            return lines
        if flow.status is not Status.IN_SYNC:
            section = _md_flow(flow, plan.environment, s, o)
            lines += section
            size += sum(len(line) + 1 for line in section)
    in_sync, hidden = _capped([f.key for f in flows if f.status is Status.IN_SYNC], o)
    if in_sync:
        more = f" and {hidden} more" if hidden else ""
        names = ", ".join(code_span(k) for k in in_sync)
        lines += [f"**In sync** ({len(in_sync) + hidden}): {names}{more}", ""]
    return lines


def _headline(plan: EnvironmentPlan) -> str:
    counts = plan.summary()
    person = [f"{counts[x.value]} {x.value}" for x in _NEEDS_PERSON if counts[x.value]]
    writes = counts["create"] + counts["update"]
    breaking = sum(1 for f in plan.flows if is_breaking(f))
    parts = [f"**Needs a person:** {', '.join(person)}." if person else "Nothing needs a person."]
    parts.append(f"Apply would write {writes} flow{'' if writes == 1 else 's'} (never publishes).")
    if breaking:
        parts.append(
            f"**Breaking for integrations:** {breaking} flow{'' if breaking == 1 else 's'}."
        )
    return " ".join(parts)


def _md_flow(flow: FlowPlan, environment: str, s: _Style, o: _Options) -> list[str]:
    status = flow.status.value.replace("_", " ").capitalize()
    badge = " · breaking" if is_breaking(flow) else ""
    name = f"{s.name(flow.title)} ({code_span(flow.key)})" if flow.title else code_span(flow.key)
    lines = [f"### {status}{badge}: {name}", ""]
    if flow.reason:
        lines += [s.ours(flow.reason), ""]
    refs = _concealed_refs(flow)
    lines += _md_list(
        "⚠️ Breaking for integrations",
        [c for c in flow.changes + flow.git_side if c.breaking],
        s,
        o,
        refs,
        breaking=True,
    )
    if flow.status in (Status.DRIFT, Status.CONFLICT):
        lines += [*_who(flow, environment, s), ""]
    lines += [_consequence(flow, environment, s), ""]
    quiet = o.collapse and flow.status not in (Status.DRIFT, Status.CONFLICT)
    for heading, changes in _sections(flow):
        if quiet and changes:
            command = code_span(f"syncer plan --env {_arg(environment)} --flow {_arg(flow.key)}")
            plural = "s" if len(changes) != 1 else ""
            lines += [f"{len(changes)} change{plural} (details omitted to fit; run {command}).", ""]
        else:
            lines += _md_list(heading, changes, s, o, refs)
    cosmetic = [_change(c, s, o, refs)[0] for c in flow.changes if c.cosmetic][:1]
    lines += [*cosmetic, ""] if cosmetic else []
    lines += _md_constants(flow.constants, s, o)
    if o.diagrams:
        lines += _md_diagrams(flow)
    return lines


def _md_list(
    heading: str,
    changes: list[Change],
    s: _Style,
    o: _Options,
    refs: set[str],
    breaking: bool = False,
) -> list[str]:
    if not changes:
        return []
    shown, hidden = _capped(changes, o)
    lines = [f"**{heading}**", ""]
    for change in shown:
        if breaking:
            lines.append(f"- {_breaking(change, s)}")
            continue
        line, diff = _change(change, s, o, refs)
        lines.append(f"- {line}")
        if diff:
            fence = "`" * max(
                3, max((len(r) for r in re.findall(r"`+", "\n".join(diff))), default=0) + 1
            )
            lines += [f"  {fence}diff", *(f"  {d}" for d in diff), f"  {fence}"]
    lines += [f"- … and {hidden} more"] if hidden else []
    return [*lines, ""]


def _md_constants(decisions: list[ConstantDecision], s: _Style, o: _Options) -> list[str]:
    if not decisions:
        return []
    if o.collapse:
        changed = sum(1 for d in decisions if d.changed)
        return [
            f"Constants and settings: {len(decisions)} decisions, {changed} change the "
            "destination (details omitted to fit).",
            "",
        ]
    shown, hidden = _capped(decisions, o)
    lines = [
        "**Constants and settings**",
        "",
        "| key | decision | value | changes destination |",
        "|---|---|---|---|",
    ]
    for d in shown:
        value = CONCEALED if d.concealed else (md(_raw(d.value), 60) if d.value is not None else "")
        note = f" ({md(d.note, 120)})" if d.note else ""
        lines.append(
            f"| {code_span(d.key)} | {d.decision.value}{note} | {value} | "
            f"{'yes' if d.changed else 'no'} |"
        )
    lines += [f"| … {hidden} more | | | |"] if hidden else []
    return [*lines, ""]


def _raw(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _md_diagrams(flow: FlowPlan) -> list[str]:
    lines = []
    for title, chart in mermaid.flow_diagrams(flow):
        lines += [
            f"<details><summary>Diagram: track {_html(title, 80)} "
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


# -- text -------------------------------------------------------------------------------------------


def _text_environment(plan: EnvironmentPlan, s: _Style) -> list[str]:
    counts = plan.summary()
    commit = f" (git {flatten(plan.git_commit[:12])})" if plan.git_commit else ""
    lines = [
        s.bold(flatten(plan.environment) + commit),
        "  " + " · ".join(f"{status.value} {counts[status.value]}" for status in ORDER),
    ]
    lines += [f"  {s.paint('error:', 'red')} {flatten(e, 500)}" for e in plan.errors]
    flows = ordered(plan.flows)
    for flow in flows:
        if flow.status is not Status.IN_SYNC:
            lines += ["", *_text_flow(flow, plan.environment, s)]
    in_sync = [flatten(f.key) for f in flows if f.status is Status.IN_SYNC]
    if in_sync:
        lines += ["", s.paint(f"  in sync: {', '.join(in_sync)}", "dim")]
    return [*lines, ""]


def _text_flow(flow: FlowPlan, environment: str, s: _Style) -> list[str]:
    o, refs = _Options(diagrams=False), _concealed_refs(flow)
    status = s.paint(f"{flow.status.value.upper():<10}", _PAINT[flow.status])
    badge = s.paint(" BREAKING", "red") if is_breaking(flow) else ""
    lines = [f"  {status}{flatten(flow.key)}  {s.name(flow.title)}{badge}"]
    lines += [f"    {s.ours(flow.reason)}"] if flow.reason else []
    for change in [c for c in flow.changes + flow.git_side if c.breaking]:
        lines.append(f"    {s.paint('! breaking:', 'red')} {_breaking(change, s)}")
    if flow.status in (Status.DRIFT, Status.CONFLICT):
        lines += [f"    {line}" for line in _who(flow, environment, s)]
    for heading, changes in _sections(flow):
        lines += [f"    {heading}:"] if changes and flow.status is Status.CONFLICT else []
        for change in changes:
            line, diff = _change(change, s, o, refs)
            mark = {"added": "+", "removed": "-"}.get(change.kind, "~")
            lines.append(f"    {mark} {line}")
            lines += [f"        {_paint_diff(d, s)}" for d in diff]
    lines += [f"    · {_change(c, s, o, refs)[0]}" for c in flow.changes if c.cosmetic][:1]
    for d in flow.constants:
        value = (
            CONCEALED if d.concealed else flatten(_raw(d.value), 60) if d.value is not None else ""
        )
        lines.append(
            f"    constant {flatten(d.key)}: {d.decision.value}{' ' + value if value else ''}"
        )
    return [*lines, f"    {_consequence(flow, environment, s)}"]


def _paint_diff(line: str, s: _Style) -> str:
    colour = {"+": "green", "-": "red"}.get(line[:1])
    return s.paint(line, colour) if colour else line
