"""One reconcile run for the service, with everything the history, the page and the metrics need.

The rules are reconcile's, not a copy of them: the plan comes from ``planner.plan_environment``, the
writes from ``apply.apply_plan``, and whether an environment may be written (its ``windows`` and its
``verify``) from the very function ``syncer reconcile`` asks. What this adds is the record: each
environment's outcome in words (``ok``, ``attention``, ``deferred``, ``refused``, ``failed``,
``interrupted``), the tenant's list as the planner saw it (who edited last, what syncer applied when),
and the HTTP status of every answer. One environment failing never hides another's outcome.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from .. import logs
from ..apply import ApplyOptions, ApplyResult, FlowResult, apply_plan
from ..client import TenantClient, client_for
from ..commands.reconcile import _may_write  # the one decider of "may reconcile write here now"
from ..errors import SyncError, TenantError
from ..model import NEEDS_PERSON, Environment, EnvironmentPlan, Role, Window
from ..planner import plan_environment
from ..windows import writes_allowed
from ..workspace import Workspace

log = logging.getLogger(__name__)

OK, ATTENTION, DEFERRED, REFUSED, FAILED, INTERRUPTED = (
    "ok",
    "attention",
    "deferred",
    "refused",
    "failed",
    "interrupted",
)
# Worst first: a run's result is the worst of its environments'.
RESULTS = (INTERRUPTED, FAILED, REFUSED, DEFERRED, ATTENTION, OK)
# An environment reconciled as it should be: the planner ran, and writes happened or were rightly held.
SUCCESSFUL = frozenset({OK, ATTENTION, DEFERRED})
WRITTEN = ("created", "updated")


@dataclass
class EnvironmentRun:
    """What one run did in one environment."""

    name: str
    url: str
    result: str = OK
    detail: str = ""
    plan: EnvironmentPlan | None = None
    applied: ApplyResult | None = None
    summaries: list[dict[str, Any]] = field(default_factory=list)
    window_deferred: bool = False
    verify_refused: bool = False
    window_reason: str = ""
    requests: Counter[int] = field(default_factory=Counter)
    windows: tuple[Window, ...] = ()

    def writes(self) -> int:
        return self.applied.writes() if self.applied else 0


@dataclass
class RunOutcome:
    """What one run did: the commit, each environment, or the error that stopped it before any."""

    git_commit: str = ""
    environments: list[EnvironmentRun] = field(default_factory=list)
    error: str = ""
    stopped: bool = False

    @property
    def result(self) -> str:
        if self.error:
            return FAILED
        found = {env.result for env in self.environments}
        return next((r for r in RESULTS if r in found), OK)

    @property
    def detail(self) -> str:
        if self.error:
            return self.error
        worst = [e for e in self.environments if e.result == self.result and e.detail]
        return "; ".join(f"{e.name}: {e.detail}" for e in worst)


def reconcile(
    repo: Path,
    env_names: Sequence[str],
    ref: str | None,
    actor: str,
    should_stop: Callable[[], bool],
) -> RunOutcome:
    """Plan and apply every target environment in parallel, as ``syncer reconcile`` does."""
    try:
        ws = Workspace(repo, ref)  # re-read every run: Git may have moved
        envs = ws.select(env_names, Role.TARGET)
        ws.flows  # validate the whole Git state before the first write  # noqa: B018
        commit = ws.git_commit
    except SyncError as exc:
        logs.event(log, "run.invalid", str(exc), level=logging.ERROR)
        return RunOutcome(error=str(exc))

    def one(env: Environment) -> EnvironmentRun:
        return _environment(ws, env, actor, should_stop)

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(envs)))) as pool:
        results = list(pool.map(one, envs))
    return RunOutcome(commit, results, stopped=should_stop())


def _environment(
    ws: Workspace, env: Environment, actor: str, should_stop: Callable[[], bool]
) -> EnvironmentRun:
    run = EnvironmentRun(env.name, env.url, windows=env.windows)
    try:
        with client_for(env) as tenant:
            try:
                _plan_and_apply(run, ws, env, tenant, actor, should_stop)
            finally:
                run.requests = Counter(tenant.stats.by_status)
    except SyncError as exc:
        run.result, run.detail = FAILED, str(exc)
        status = exc.status if isinstance(exc, TenantError) else None
        logs.event(
            log,
            "environment.failed",
            str(exc),
            level=logging.ERROR,
            environment=env.name,
            status=status,
        )
    return run


def _plan_and_apply(
    run: EnvironmentRun,
    ws: Workspace,
    env: Environment,
    tenant: TenantClient,
    actor: str,
    should_stop: Callable[[], bool],
) -> None:
    recorder = _ListRecorder(tenant)
    run.plan = plan_environment(ws, env, cast(TenantClient, recorder))
    run.summaries = recorder.summaries
    window_open, window_why = writes_allowed(env.windows, datetime.now(UTC))
    allowed, why = _may_write(ws, env)
    if not allowed:
        run.window_deferred = not window_open
        run.verify_refused = window_open
        run.window_reason = window_why
        run.result, run.detail = (DEFERRED if run.window_deferred else REFUSED), why
        run.applied = ApplyResult(env.name, [FlowResult("*", "skipped", f"no writes: {why}")])
        name = "window.deferred" if run.window_deferred else "verify.refused"
        logs.event(log, name, why, level=logging.WARNING, environment=env.name)
        return
    run.applied = apply_plan(
        run.plan, env, tenant, ApplyOptions(actor=actor), should_stop=should_stop
    )
    run.result, run.detail = _judge(run.plan, run.applied, should_stop())


def _judge(plan: EnvironmentPlan, applied: ApplyResult, stopped: bool) -> tuple[str, str]:
    """The outcome of an applied environment, by the rules of ``syncer apply``'s exit code."""
    failed = [r for r in applied.results if r.action in ("failed", "stale")]
    if failed:
        return FAILED, "; ".join(f"{r.key}: {r.detail or r.action}" for r in failed)
    if stopped and any(
        r.action == "skipped" and "shutting down" in r.detail for r in applied.results
    ):
        return INTERRUPTED, "stopped after the write in flight; the next run writes the rest"
    written = {r.key for r in applied.results if r.action in WRITTEN}
    waiting = [f for f in plan.flows if f.status in NEEDS_PERSON and f.key not in written]
    refused = [r.key for r in applied.results if r.action == "refused"]
    if waiting or refused:
        parts = [f"{f.key} {f.status.value}" for f in waiting] + [f"{k} refused" for k in refused]
        return ATTENTION, "needs a person: " + ", ".join(parts)
    return OK, ""


class _ListRecorder:
    """The tenant client as the planner sees it, keeping the list it answered (no extra request)."""

    def __init__(self, inner: TenantClient) -> None:
        self._inner = inner
        self.summaries: list[dict[str, Any]] = []

    def list_flows(self) -> list[dict[str, Any]]:
        self.summaries = self._inner.list_flows()
        return self.summaries

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
