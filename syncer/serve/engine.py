"""One reconcile run for the service, with everything the history, the page and the metrics need.

The rules are reconcile's, not a copy of them: each environment is one ``reconcile.reconcile_once``,
the very run ``syncer reconcile`` makes (plan, ``windows`` and ``verify`` through ``guards.may_write``,
apply). What this adds is the record: each environment's outcome in words (``ok``, ``attention``,
``deferred``, ``refused``, ``failed``, ``interrupted``), whether a window or verify held the writes
(told apart by asking the window rules at the same instant the guard was asked), the tenant's list as
the planner read it, and the HTTP status of every answer. Environments run in parallel, each on its
own, so one failing never hides another's outcome.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import SyncError, TenantError
from ..model import NEEDS_PERSON, Environment, EnvironmentPlan, HoldKind, Role, Window
from ..reconcile import reconcile_once
from ..reconcile.apply import ApplyResult
from ..report import logs
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
    moment = datetime.now(UTC)
    try:
        (done,) = reconcile_once(ws, [env], actor, moment, should_stop=should_stop).environments
    except SyncError as exc:
        run.result, run.detail = FAILED, str(exc)
        status = exc.status if isinstance(exc, TenantError) else None
        if status is not None:
            run.requests[status] += 1
        logs.event(
            log,
            "environment.failed",
            str(exc),
            level=logging.ERROR,
            environment=env.name,
            status=status,
        )
        return run
    run.plan, run.applied, run.summaries, run.requests = (
        done.plan,
        done.result,
        done.summaries,
        done.requests,
    )
    if done.hold is not None:  # the guard says which held the writes: a window or verify
        deferred = done.hold.kind is HoldKind.WINDOW
        run.window_deferred, run.verify_refused = deferred, not deferred
        run.window_reason = done.hold.window if deferred else ""
        run.result, run.detail = (DEFERRED if run.window_deferred else REFUSED), done.held
        name = "window.deferred" if run.window_deferred else "verify.refused"
        logs.event(log, name, done.held, level=logging.WARNING, environment=env.name)
    else:
        run.result, run.detail = _judge(done.plan, done.result, should_stop())
    return run


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
