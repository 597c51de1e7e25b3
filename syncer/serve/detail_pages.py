"""The pages under the status page: one flow in one environment, one run, and the run history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .pages import badge, e, flow_href, layout, result_badge, runs_table, when
from .records import FlowState, RunRecord


def flow_page(state: FlowState) -> str:
    """``/flows/{env}/{key}``: the flow's state, the report in words, its diagrams drawn inline."""
    facts = [
        ("Status", badge(state.status)),
        ("Live revision", e(state.live_revision if state.live_revision is not None else "–")),
        ("Last applied by syncer", _applied(state)),
        ("Last edit in the tenant", _edited(state)),
        ("This run", e(state.outcome or "nothing to do")),
    ]
    if state.held:
        facts.append(("Why it was not written", e(state.held, 400)))
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    words = "".join(f"<li>{e(line, 600)}</li>" for line in state.words if line.strip())
    body = [
        f"<h1>{e(state.title or state.flow)} <small>in {e(state.environment)}</small></h1>",
        f"<p><code>{e(state.flow)}</code> · as of {when(state.updated_at)} "
        f'(<a href="/runs/{e(state.run_id)}">run {e(state.run_id)}</a>)</p>',
        f'<dl class="facts">{rows}</dl>',
        '<h2 id="report">The report</h2>',
        f'<ul class="words">{words}</ul>' if words else "<p>Nothing to report.</p>",
        _diagrams(state),
        '<p><a href="/">Back to the status page</a></p>',
    ]
    return layout(f"{state.flow} in {state.environment} · syncer", "".join(body))


def _applied(state: FlowState) -> str:
    if not state.applied_commit:
        return "never"
    by = f" by {e(state.applied_by)}" if state.applied_by else ""
    return f"commit <code>{e(state.applied_commit[:12])}</code> {when(state.applied_at)}{by}"


def _edited(state: FlowState) -> str:
    if not state.edited_by:
        return "–"
    hotfix = " (marked as a hotfix)" if state.edit_hotfix else ""
    return f"{e(state.edited_by)} {when(state.edited_at)}{hotfix}"


def _diagrams(state: FlowState) -> str:
    if not state.diagrams:
        return ""
    drifted = state.status in ("drift", "conflict")
    legend = (
        "Production's version drawn against Git's: green steps are new in Production, amber "
        "changed, red (dashed) gone."
        if drifted
        else "What applying Git does: green steps are added, amber changed, red (dashed) removed."
    )
    figures = []
    for diagram in state.diagrams:
        figures.append(
            f'<figure class="diagram">{diagram.svg}<figcaption>Track {e(diagram.title)}'
            f"</figcaption><details><summary>Mermaid source</summary><pre><code>"
            f"{e_block(diagram.mermaid)}</code></pre></details></figure>"
        )
    return f'<h2 id="diagrams">Changed tracks</h2><p>{legend}</p>{"".join(figures)}'


def e_block(text: str) -> str:
    """Multi-line text for ``<pre>``: each line flattened and escaped, line breaks kept."""
    return "\n".join(e(line, 400) for line in text.splitlines())


def run_page(run: RunRecord) -> str:
    """``/runs/{id}``: when, why, which commit, and what happened in each environment."""
    rows = []
    for env in run.environments:
        results = env.report.get("results") or []
        items = "".join(_result_item(env.environment, r) for r in results)
        counts = ", ".join(f"{k} {v}" for k, v in env.counts.items() if v)
        rows.append(
            f"<section><h2>{e(env.environment)}</h2><p>{result_badge(env.result)} "
            f"{e(env.detail, 400)}</p><p>{e(counts) or 'no flows'}</p>"
            f'<ul class="words">{items}</ul></section>'
        )
    duration = run.duration()
    took = f"{duration:.1f} s" if duration is not None else "–"
    body = (
        f'<h1>Run {e(run.id)}</h1><dl class="facts"><dt>Started</dt><dd>{when(run.started_at)}</dd>'
        f"<dt>Finished</dt><dd>{when(run.finished_at)}</dd><dt>Took</dt><dd>{took}</dd>"
        f"<dt>Trigger</dt><dd>{e(run.trigger)}</dd><dt>Commit</dt><dd><code>{e(run.git_commit)}"
        f"</code></dd><dt>Result</dt><dd>{result_badge(run.result)} {e(run.detail, 600)}</dd></dl>"
        + "".join(rows)
        + f'<p><a href="/api/runs/{e(run.id)}">This run as JSON</a> · <a href="/runs">All runs</a></p>'
    )
    return layout(f"run {run.id} · syncer", body)


def _result_item(environment: str, result: dict[str, Any]) -> str:
    flow = str(result.get("flow", ""))
    name = e(flow) if flow == "*" else f'<a href="{flow_href(environment, flow)}">{e(flow)}</a>'
    detail = f": {e(result.get('detail'), 400)}" if result.get("detail") else ""
    return f"<li>{name} {e(result.get('action'))}{detail}</li>"


def history_page(runs: Sequence[RunRecord], environment: str, since: str, until: str) -> str:
    """``/runs``: the history, filtered by environment and time (a form, no script)."""
    form = (
        '<form method="get" action="/runs" class="filters"><label>Environment '
        f'<input name="environment" value="{e(environment)}"></label> <label>From (UTC) '
        f'<input name="since" type="date" value="{e(since[:10])}"></label> <label>Before (UTC) '
        f'<input name="until" type="date" value="{e(until[:10])}"></label> '
        '<button type="submit">Show</button></form>'
    )
    return layout("run history · syncer", "<h1>Run history</h1>" + form + runs_table(runs, "Runs"))


def not_found_page(what: str) -> str:
    return layout(
        "not found · syncer", f'<h1>Not found</h1><p>{e(what)}</p><p><a href="/">Back</a></p>'
    )
