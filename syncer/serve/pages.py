"""The status page and its sub-pages as HTML. Pure: records in, a page out; no script anywhere.

Plain, accessible HTML: real tables with captions and header scopes, statuses in words as well as
colours (the SPEC's vocabulary), banners as ``role="alert"``, every link a real link. Everything shown
comes from the history's records, which never hold a concealed value; every text passes
``safe_text.flatten`` and HTML escaping before it is placed. Diagrams are inline SVG drawn on the
server (``diagram``), stored with the flow's state.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ..report.safe_text import flatten
from .records import EnvironmentState, FlowState, RunRecord, parse_time

STATUS_WORDS = {
    "in_sync": "in sync",
    "create": "create (pending)",
    "update": "update (pending)",
    "drift": "drift",
    "conflict": "conflict",
    "unmanaged": "unmanaged",
    "orphaned": "orphaned",
}
RESULT_WORDS = {
    "ok": "ok",
    "attention": "needs a person",
    "deferred": "writes held by a window",
    "refused": "verify refused the commit",
    "failed": "failed",
    "interrupted": "interrupted",
    "running": "running",
}


@dataclass(frozen=True)
class Overview:
    """What the front page shows."""

    flows: Sequence[FlowState]
    environments: Sequence[EnvironmentState]
    runs: Sequence[RunRecord]
    running: str = ""  # the trigger of the run in flight
    next_run_in: float | None = None
    watched: str = ""  # the ref or branch reconciled


def e(value: object, limit: int = 200) -> str:
    """User or tenant text, made one line, capped and HTML-escaped."""
    return html.escape(flatten("" if value is None else value, limit), quote=True)


def when(text: str | None) -> str:
    """A timestamp as ``2026-03-04 10:02 UTC`` in a ``<time>`` element."""
    at = parse_time(text)
    if at is None:
        return e(text or "–")
    iso = at.isoformat(timespec="seconds").replace("+00:00", "Z")
    return f'<time datetime="{iso}">{at.strftime("%Y-%m-%d %H:%M")} UTC</time>'


def flow_href(environment: str, flow: str) -> str:
    return f"/flows/{quote(environment, safe='')}/{quote(flow, safe='')}"


def run_href(run_id: str) -> str:
    return f"/runs/{quote(run_id, safe='')}"


def layout(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{e(title)}</title><link rel="stylesheet" href="/assets/status.css"></head>'
        f'<body><a class="skip" href="#main">Skip to content</a><header><p class="brand">'
        f'<a href="/">syncer</a> · Git → Production</p></header><main id="main">{body}</main>'
        "<footer>Read-only. Concealed values are never shown. "
        '<a href="/runs">Run history</a> · <a href="/metrics">Metrics</a></footer></body></html>\n'
    )


def badge(status: str) -> str:
    word = STATUS_WORDS.get(status, status)
    return f'<span class="status status-{e(status, 20)}">{e(word)}</span>'


def result_badge(result: str) -> str:
    word = RESULT_WORDS.get(result, result)
    return f'<span class="result result-{e(result, 20)}">{e(word)}</span>'


def status_page(view: Overview) -> str:
    """``/``: banners, the flows × environments table, the environments, the last runs."""
    envs = sorted({s.environment for s in view.flows} | {s.environment for s in view.environments})
    parts = ["<h1>Care flows in Production</h1>", _summary_line(view)]
    parts += _banners(view.flows, view.environments)
    parts.append(_flow_table(view.flows, envs))
    parts.append(_environment_table(view.environments))
    parts.append(runs_table(view.runs, "Last runs"))
    return layout("syncer status", "".join(parts))


def _summary_line(view: Overview) -> str:
    last = next((r for r in view.runs if r.finished_at), None)
    bits = []
    watched = f"<code>{e(view.watched)}</code>" if view.watched else "the work tree"
    bits.append(f"Reconciling {watched} into every target environment.")
    if last is not None:
        commit = f" at commit <code>{e(last.git_commit[:12])}</code>" if last.git_commit else ""
        bits.append(f"Last run {when(last.finished_at)}{commit}: {result_badge(last.result)}.")
    if view.running:
        bits.append(f"A run is in progress ({e(view.running)}).")
    elif view.next_run_in is not None:
        bits.append(f"Next run in about {_duration(view.next_run_in)}.")
    if not view.runs:
        bits.append("No run has finished yet.")
    return f'<p class="summary">{" ".join(bits)}</p>'


def _banners(flows: Sequence[FlowState], environments: Sequence[EnvironmentState]) -> list[str]:
    out = []
    for kind in ("conflict", "drift"):
        hits = [s for s in flows if s.status == kind]
        if hits:
            items = "".join(f"<li>{_banner_item(s)}</li>" for s in hits)
            head = f"{len(hits)} {'conflict' if kind == 'conflict' else 'drifted flow'}"
            head += "s" if len(hits) != 1 else ""
            what = (
                "changed in Production and in Git" if kind == "conflict" else "edited in Production"
            )
            out.append(
                f'<section class="banner banner-{kind}" role="alert" aria-labelledby="b-{kind}">'
                f'<h2 id="b-{kind}">{head}: {what}, not overwritten</h2><ul>{items}</ul></section>'
            )
    for env in environments:
        if env.result in ("failed", "refused") or not env.window_open:
            out.append(_environment_banner(env))
    return out


def _banner_item(state: FlowState) -> str:
    who = f" by {e(state.edited_by)}" if state.edited_by else ""
    at = f" at {when(state.edited_at)}" if state.edited_at else ""
    hotfix = " (hotfix)" if state.edit_hotfix else ""
    link = (
        f'<a href="{flow_href(state.environment, state.flow)}">{e(state.title or state.flow)}</a>'
    )
    return f"{link} in <strong>{e(state.environment)}</strong>: edited{who}{at}{hotfix}"


def _environment_banner(env: EnvironmentState) -> str:
    if env.result == "failed":
        kind, text = "failed", f"The last run failed in {e(env.environment)}: {e(env.detail, 400)}"
    elif env.result == "refused":
        kind, text = (
            "refused",
            f"Verify refused the commit for {e(env.environment)}: {e(env.detail, 400)}",
        )
    else:
        opens = (
            f"; writes resume {when(env.window_next_open)}"
            if env.window_next_open
            else "; no window opens in the next two months"
        )
        kind, text = (
            "window",
            f"Writes to {e(env.environment)} are held: {e(env.window_reason)}{opens}",
        )
    role = "alert" if kind != "window" else "status"
    return f'<p class="banner banner-{kind}" role="{role}">{text}</p>'


def _flow_table(flows: Sequence[FlowState], envs: list[str]) -> str:
    if not flows:
        return "<h2>Flows</h2><p>No flow has been planned yet.</p>"
    by_flow: dict[str, dict[str, FlowState]] = {}
    for state in flows:
        by_flow.setdefault(state.flow, {})[state.environment] = state
    head = "".join(f'<th scope="col">{e(env)}</th>' for env in envs)
    rows = []
    for key in sorted(by_flow):
        cells = by_flow[key]
        title = next((s.title for s in cells.values() if s.title), key)
        row = [f'<th scope="row">{e(title)}<br><code>{e(key)}</code></th>']
        row += [_flow_cell(cells.get(env)) for env in envs]
        rows.append(f"<tr>{''.join(row)}</tr>")
    return (
        '<h2 id="flows">Flows</h2><div class="scroll"><table class="flows">'
        "<caption>Each care flow in each target environment, as the last run left it</caption>"
        f'<thead><tr><th scope="col">Flow</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _flow_cell(state: FlowState | None) -> str:
    if state is None:
        return '<td class="none">not in this environment</td>'
    lines = [f'<a href="{flow_href(state.environment, state.flow)}">{badge(state.status)}</a>']
    if state.live_revision is not None:
        lines.append(f"revision {e(state.live_revision)}")
    if state.applied_commit:
        lines.append(
            f"applied <code>{e(state.applied_commit[:12])}</code> {when(state.applied_at)}"
        )
    if state.edited_by:
        lines.append(f"last edit: {e(state.edited_by)} {when(state.edited_at)}")
    if state.held:
        lines.append(f'<span class="held">held: {e(state.held, 160)}</span>')
    meta = "".join(f"<li>{line}</li>" for line in lines[1:])
    return f'<td>{lines[0]}<ul class="meta">{meta}</ul></td>'


def _environment_table(environments: Sequence[EnvironmentState]) -> str:
    if not environments:
        return ""
    rows = []
    for env in environments:
        window = "writes allowed" if env.window_open else f"held: {e(env.window_reason)}"
        if not env.window_open and env.window_next_open:
            window += f"; opens {when(env.window_next_open)}"
        rows.append(
            f'<tr><th scope="row">{e(env.environment)}</th><td>{result_badge(env.result)}'
            f"<br>{e(env.detail, 300)}</td><td>{window}</td><td>{when(env.last_success_at)}</td>"
            f"<td>{when(env.checked_at)}</td></tr>"
        )
    return (
        '<h2 id="environments">Environments</h2><div class="scroll"><table>'
        "<caption>Target environments: the last run's result and the sync window</caption>"
        '<thead><tr><th scope="col">Environment</th><th scope="col">Last result</th>'
        '<th scope="col">Window</th><th scope="col">Last success</th>'
        f'<th scope="col">Checked</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def runs_table(runs: Iterable[RunRecord], caption: str) -> str:
    rows = []
    for run in runs:
        duration = run.duration()
        took = _duration(duration) if duration is not None else "–"
        writes = run.counts.get("writes", 0)
        rows.append(
            f'<tr><td><a href="{run_href(run.id)}">{when(run.started_at)}</a></td>'
            f"<td>{e(run.trigger)}</td><td><code>{e(run.git_commit[:12])}</code></td>"
            f"<td>{result_badge(run.result)}</td><td>{took}</td><td>{e(writes)}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="6">No runs yet.</td></tr>'
    return (
        f'<h2 id="runs">{e(caption)}</h2><div class="scroll"><table><caption>{e(caption)}, newest '
        'first</caption><thead><tr><th scope="col">Started</th><th scope="col">Trigger</th>'
        '<th scope="col">Commit</th><th scope="col">Result</th><th scope="col">Took</th>'
        f'<th scope="col">Writes</th></tr></thead><tbody>{body}</tbody></table></div>'
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
