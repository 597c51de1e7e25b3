"""The go-live checklist of ``syncer preflight`` as JSON, Markdown or text. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..golive.items import LEVELS, EnvironmentChecklist, FlowChecklist, Item
from .safe_text import code_span, flatten, md

_MARK = {"pass": "✓", "warn": "!", "block": "✗"}
_EMOJI = {"pass": "✅", "warn": "⚠️", "block": "⛔"}
_COLOUR = {"pass": "32", "warn": "33", "block": "31"}


def render_checklists(
    results: Sequence[EnvironmentChecklist], output: str, *, color: bool = False
) -> str:
    """The checklists as ``json`` (one object, or an array for several environments), ``markdown``
    or ``text`` (coloured with ``color``)."""
    if output == "json":
        data = [r.to_json() for r in results]
        return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
    if output == "markdown":
        return "\n".join(line for r in results for line in _markdown(r))
    return "\n".join(line for r in results for line in _text(r, color))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[level.value]} {level.value}" for level in LEVELS)


def _text(result: EnvironmentChecklist, color: bool) -> list[str]:
    def paint(text: str, level: str) -> str:
        return f"\x1b[{_COLOUR[level]}m{text}\x1b[0m" if color else text

    versus = f", compared with {result.source}" if result.source else ""
    lines = [f"{result.environment}{versus}: {_counts(result.counts())}"]
    for flow in result.flows:
        level = flow.level.value
        head = f"{flatten(flow.key)} — {flatten(flow.title)}: {paint(level.upper(), level)}"
        lines.append(f"  {head} ({_counts(flow.counts())})")
        for item in _ordered(flow):
            mark = paint(f"{_MARK[item.level.value]} {item.level.value:<5}", item.level.value)
            lines.append(f"    {mark} {flatten(item.name)}: {flatten(item.message, 400)}")
            if item.fix and item.level.value != "pass":
                lines.append(f"            → {flatten(item.fix, 400).replace('`', '')}")
    if not result.flows:
        lines.append("  no flows to check")
    verdict = "BLOCKED: fix the block items before publishing" if result.blocked() else "ready"
    lines.append(f"  {paint(verdict, 'block' if result.blocked() else 'pass')}")
    return lines


def _ordered(flow: FlowChecklist) -> list[Item]:
    rank = {level: index for index, level in enumerate(LEVELS)}
    return sorted(flow.items, key=lambda item: rank[item.level])


def _markdown(result: EnvironmentChecklist) -> list[str]:
    versus = f" (compared with {code_span(result.source)})" if result.source else ""
    verdict = "⛔ blocked" if result.blocked() else "✅ ready to publish"
    lines = [
        f"## Preflight: {code_span(result.environment)}{versus} — {verdict}",
        "",
        f"{_counts(result.counts())}; Git commit {code_span(result.git_commit)}.",
        "",
    ]
    for flow in result.flows:
        emoji = _EMOJI[flow.level.value]
        lines += [f"### {emoji} {md(flow.title)} ({code_span(flow.key)})", ""]
        lines += ["| | Check | Finding | What to do |", "|---|---|---|---|"]
        for item in _ordered(flow):
            fix = _md_code(item.fix) if item.level.value != "pass" else ""
            cells = [_EMOJI[item.level.value], md(item.name), md(item.message, 400), fix]
            lines.append(f"| {' | '.join(cells)} |")
        lines.append("")
    return lines


def _md_code(text: str) -> str:
    """Our own fix text: `command` parts as code spans, the rest escaped (spaces kept)."""
    parts = flatten(text, 400).split("`")
    return "".join(code_span(p) if i % 2 else _md_spaced(p) for i, p in enumerate(parts))


def _md_spaced(text: str) -> str:
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    return f"{lead}{md(text, 400)}{trail}" if text.strip() else text
