"""A finished run as the records the history keeps: the run, each environment, each flow. Pure.

A flow's state is what it is *after* the run: a flow the run created or updated is ``in_sync`` at the
revision it wrote; a pending write the run did not make keeps its status (``update``) and says why
(``held``). Who edited last and what syncer applied when come from the tenant's list (its
``updated_by``/``updated_at`` and the ``syncer.io/*`` annotations), read by the planner, never fetched
again. The words and diagrams are rendered once here from the plan, which never holds a concealed
value, and shown by the page as stored.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .. import report
from ..model import (
    ANN_APPLIED_AT,
    ANN_APPLIED_BY,
    ANN_GIT_COMMIT,
    STATUSES,
    FlowPlan,
    Status,
)
from ..reconcile.windows import next_open, writes_allowed
from ..report import mermaid
from ..report.text import render_flow_text
from .diagram import render_svg
from .engine import SUCCESSFUL, WRITTEN, EnvironmentRun, RunOutcome
from .records import Diagram, EnvironmentRecord, EnvironmentState, FlowState, RunRecord


def run_record(run: RunRecord, outcome: RunOutcome, finished_at: str) -> RunRecord:
    """``run`` completed with what ``outcome`` found."""
    run.finished_at = finished_at
    run.git_commit = outcome.git_commit
    run.result = outcome.result
    run.detail = outcome.detail
    run.environments = [_environment_record(env) for env in outcome.environments]
    totals: dict[str, int] = {}
    for env in run.environments:
        for key, value in env.counts.items():
            totals[key] = totals.get(key, 0) + value
    run.counts = totals
    return run


def _environment_record(env: EnvironmentRun) -> EnvironmentRecord:
    counts = dict(env.plan.summary()) if env.plan else {}
    counts["writes"] = env.writes()
    data: dict[str, Any] = {
        "url": env.url,
        "requests": {str(k): v for k, v in env.requests.items()},
    }
    if env.plan is not None:
        data["plan"] = _plan_json(env)
    if env.applied is not None:
        data["results"] = [
            {"flow": r.key, "action": r.action, "detail": r.detail, "revision": r.revision}
            for r in env.applied.results
        ]
    return EnvironmentRecord(
        environment=env.name,
        result=env.result,
        detail=env.detail,
        window_deferred=env.window_deferred,
        verify_refused=env.verify_refused,
        counts=counts,
        report=data,
    )


def _plan_json(env: EnvironmentRun) -> dict[str, Any]:
    """The plan as ``syncer plan --output json`` prints it, less the flows that were in sync and left
    alone: a no-op run of a thousand flows every five minutes must not store a thousand entries."""
    assert env.plan is not None
    plan: dict[str, Any] = json.loads(report.render_json([env.plan]))
    touched = {r.key for r in (env.applied.results if env.applied else [])}
    kept = [f for f in plan["flows"] if f["status"] != Status.IN_SYNC.value or f["key"] in touched]
    plan["in_sync_not_listed"] = len(plan["flows"]) - len(kept)
    plan["flows"] = kept
    return plan


def flow_states(env: EnvironmentRun, run_id: str, actor: str, at: str) -> list[FlowState]:
    """Every flow of an environment the run planned, as the run left it."""
    if env.plan is None:
        return []
    by_id = {str(s.get("definition_id")): s for s in env.summaries}
    results = {r.key: r for r in (env.applied.results if env.applied else [])}
    states = []
    for index, flow in enumerate(env.plan.flows):
        summary = by_id.get(flow.definition_id, {})
        state = _flow_state(flow, summary, env, run_id, at)
        result = results.get(flow.key)
        if result is not None:
            state.outcome = result.action
            if result.action in WRITTEN:
                _written(state, env.plan.git_commit, actor, at, result.revision)
            elif flow.status in (Status.CREATE, Status.UPDATE):
                state.held = result.detail or env.detail
        elif flow.status in (Status.CREATE, Status.UPDATE) and env.detail:
            state.held = env.detail
        state.diagrams = _diagrams(flow, f"{env.name}-{index}")
        states.append(state)
    return states


def _flow_state(
    flow: FlowPlan, summary: dict[str, Any], env: EnvironmentRun, run_id: str, at: str
) -> FlowState:
    annotations = summary.get("annotations") or flow.live_annotations or {}
    state = FlowState(
        environment=env.name,
        flow=flow.key,
        title=flow.title or str(summary.get("title") or ""),
        status=flow.status.value,
        run_id=run_id,
        updated_at=at,
        live_revision=flow.live_revision
        if flow.live_revision is not None
        else summary.get("revision"),
        applied_commit=str(annotations.get(ANN_GIT_COMMIT, "")),
        applied_at=str(annotations.get(ANN_APPLIED_AT, "")),
        applied_by=str(annotations.get(ANN_APPLIED_BY, "")),
        edited_by=str(summary.get("updated_by") or ""),
        edited_at=str(summary.get("updated_at") or ""),
        breaking=report.is_breaking(flow),
        words=render_flow_text(flow, env.name),
    )
    if flow.live_edits:
        last = max(flow.live_edits, key=lambda e: e.revision)
        state.edited_by, state.edited_at, state.edit_hotfix = last.user, last.at, last.hotfix
    return state


def _written(state: FlowState, commit: str, actor: str, at: str, revision: int | None) -> None:
    state.status = Status.IN_SYNC.value
    state.live_revision = revision
    state.applied_commit, state.applied_at, state.applied_by = commit, at, actor
    state.edited_by, state.edited_at, state.edit_hotfix = actor, at, False


def _diagrams(flow: FlowPlan, uid: str) -> list[Diagram]:
    diagrams = []
    for index, (title, text) in enumerate(mermaid.flow_diagrams(flow)):
        diagrams.append(Diagram(title, text, render_svg(text, f"Track {title}", f"{uid}-{index}")))
    return diagrams


def environment_state(
    env: EnvironmentRun, run_id: str, at: datetime, previous: EnvironmentState | None
) -> EnvironmentState:
    """The environment after the run: result, window now and when it next opens, last success."""
    windows = env.windows
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    open_now, why = writes_allowed(windows, at)
    opens = next_open(windows, at) if not open_now else None
    last_success = (
        stamp if env.result in SUCCESSFUL else (previous.last_success_at if previous else "")
    )
    return EnvironmentState(
        environment=env.name,
        run_id=run_id,
        result=env.result,
        checked_at=stamp,
        detail=env.detail,
        url=env.url,
        last_success_at=last_success,
        window_open=open_now,
        window_reason=why,
        window_next_open=opens.isoformat(timespec="minutes").replace("+00:00", "Z")
        if opens
        else "",
        verify_refused=env.verify_refused,
        reached=env.plan is not None,
    )


def status_counts(states: list[FlowState]) -> dict[str, dict[str, int]]:
    """Environment -> status -> number of flows (every status present, zeros included)."""
    counts: dict[str, dict[str, int]] = {}
    for state in states:
        row = counts.setdefault(state.environment, {s.value: 0 for s in STATUSES})
        row[state.status] = row.get(state.status, 0) + 1
    return counts
