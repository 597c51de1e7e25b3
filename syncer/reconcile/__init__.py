"""The reconciler: plan and apply every target environment at once, honouring ``windows`` and ``verify``.

``reconcile_once`` is one run, as ``syncer reconcile`` (and a scheduler around it) performs it: the whole
Git state is validated before the first request; each environment is planned, and written only when its
guards allow (``guards.may_write``: a sync window, a signed commit); the outcome of each environment says
what was written and, when nothing could be, why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..apply import ApplyOptions, ApplyResult, FlowResult, apply_plan
from ..client import ClientStats, Tenant, client_for
from ..model import Environment, EnvironmentPlan
from ..planner import for_each_environment, gather
from ..workspace import Workspace
from .guards import may_write

__all__ = ["EnvironmentRun", "ReconcileRun", "may_write", "reconcile_once"]


@dataclass
class EnvironmentRun:
    """One environment in one run: its plan, what apply did, and why writes were held (if they were)."""

    plan: EnvironmentPlan
    result: ApplyResult
    held: str = ""
    summaries: list[dict[str, Any]] = field(
        default_factory=list
    )  # the tenant's list, as planned on
    requests: Counter[int] = field(default_factory=Counter)  # the HTTP status of every answer


@dataclass
class ReconcileRun:
    """Every environment of one run."""

    environments: list[EnvironmentRun] = field(default_factory=list)

    @property
    def plans(self) -> list[EnvironmentPlan]:
        return [e.plan for e in self.environments]

    @property
    def results(self) -> list[ApplyResult]:
        return [e.result for e in self.environments]


def reconcile_once(
    ws: Workspace,
    envs: Sequence[Environment],
    actor: str,
    at: datetime | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> ReconcileRun:
    """Plan every environment of ``envs`` and apply what its guards allow (at ``at``, default now).

    ``should_stop`` (``syncer serve`` on SIGTERM) is asked before each write: once it says yes, the
    write in flight finishes and no other starts.
    """
    ws.flows  # validate the whole Git state before the first write  # noqa: B018
    moment = at or datetime.now(UTC)

    def one(env: Environment) -> EnvironmentRun:
        with client_for(env) as tenant:
            live = gather(ws, env, tenant)
            allowed, why = may_write(ws, env, moment)
            if allowed:
                options = ApplyOptions(actor=actor)
                result = apply_plan(live.plan, env, tenant, options, should_stop=should_stop)
            else:
                result = ApplyResult(env.name, [FlowResult("*", "skipped", f"no writes: {why}")])
            return EnvironmentRun(live.plan, result, why, live.summaries, _answers(tenant))

    return ReconcileRun(for_each_environment(envs, one))


def _answers(tenant: Tenant) -> Counter[int]:
    """The HTTP status of every answer, where the tenant's client counts them (``TenantClient``)."""
    stats = getattr(tenant, "stats", None)
    return Counter(stats.by_status) if isinstance(stats, ClientStats) else Counter()
