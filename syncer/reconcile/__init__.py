"""The reconciler: plan and apply every target environment at once, honouring ``windows`` and ``verify``.

``reconcile_once`` is one run, as ``syncer reconcile`` (and a scheduler around it) performs it: the tree
it writes is pinned to one commit first (``tree.pin``: the verified commit's own tree, or a clean work
tree); the whole Git state is validated before the first request; each environment is planned, and
written only when its guards allow (``guards``: a signed commit, a sync window). An environment whose
commit ``verify`` refuses is not even contacted, because the URL in that commit is not trusted either.
The outcome of each environment says what was written and, when nothing could be, why (``hold``).

``plan_guarded`` is the same for ``syncer apply``, which asks before it writes and may lift a closed
window with a reason (``--override-window``); it never lifts ``verify``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..client import ClientStats, Tenant, client_for
from ..model import Environment, EnvironmentPlan, Hold
from ..workspace import Workspace
from .apply import ApplyOptions, ApplyResult, FlowResult, apply_plan, exit_code
from .guards import may_write, verify_hold, window_hold
from .planner import for_each_environment, gather, plan_environments
from .tree import Tree, pin

__all__ = [
    "EnvironmentRun",
    "Guarded",
    "ReconcileRun",
    "may_write",
    "plan_guarded",
    "reconcile_once",
]

OVERRIDE_HINT = (
    " To write anyway, run `syncer apply --override-window REASON` (recorded with your name)."
)


@dataclass
class EnvironmentRun:
    """One environment in one run: its plan, what apply did, and why writes were held (if they were).

    ``held`` is the reason as one sentence (empty when writes were allowed); ``hold`` the same with its
    parts: the refused commit and its signer, or the window and when it next opens."""

    plan: EnvironmentPlan
    result: ApplyResult
    held: str = ""
    hold: Hold | None = None
    summaries: list[dict[str, Any]] = field(
        default_factory=list
    )  # the tenant's list, as planned on
    requests: Counter[int] = field(default_factory=Counter)  # the HTTP status of every answer


@dataclass
class ReconcileRun:
    """Every environment of one run, and the commit the run wrote."""

    environments: list[EnvironmentRun] = field(default_factory=list)
    commit: str = ""
    verified: bool = False  # signatures were checked for at least one environment

    @property
    def plans(self) -> list[EnvironmentPlan]:
        return [e.plan for e in self.environments]

    @property
    def results(self) -> list[ApplyResult]:
        return [e.result for e in self.environments]

    def exit_code(self) -> int:
        """SPEC 7 for reconcile: 1 when verify refused a commit (or a write failed), 3 when a flow
        needs a person, 2 when a window deferred writes, else 0."""
        return exit_code(self.results, self.plans)


def reconcile_once(
    ws: Workspace,
    envs: Sequence[Environment],
    actor: str,
    at: datetime | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    allow_dirty: bool = False,
) -> ReconcileRun:
    """Plan every environment of ``envs`` and apply what its guards allow (at ``at``, default now).

    ``should_stop`` (``syncer serve`` on SIGTERM) is asked before each write: once it says yes, the
    write in flight finishes and no other starts. ``allow_dirty`` writes uncommitted changes
    (recorded; never with verify).
    """
    tree = pin(ws, envs, allow_dirty=allow_dirty)
    refused = {env.name: verify_hold(tree.ws, env) for env in tree.environments}
    if not all(refused.values()):
        tree.ws.flows  # validate the whole Git state before the first write  # noqa: B018
    moment = at or datetime.now(UTC)

    def one(env: Environment) -> EnvironmentRun:
        hold = refused[env.name]
        if hold is not None:
            return _held(EnvironmentPlan(env.name, tree.commit, hold=hold), hold)
        with client_for(env) as tenant:
            live = gather(tree.ws, env, tenant)
            plan = live.plan
            deferred = window_hold(env, moment, plan.pending_writes())
            if deferred is not None:
                plan.hold = deferred
                run = _held(plan, deferred)
            else:
                options = ApplyOptions(actor=actor)
                result = apply_plan(plan, env, tenant, options, should_stop=should_stop)
                run = EnvironmentRun(plan, result)
            run.summaries, run.requests = live.summaries, _answers(tenant)
            return run

    return ReconcileRun(for_each_environment(tree.environments, one), tree.commit, tree.verified)


def _held(plan: EnvironmentPlan, hold: Hold) -> EnvironmentRun:
    result = ApplyResult(
        plan.environment, [FlowResult("*", "skipped", f"no writes: {hold.message}")]
    )
    return EnvironmentRun(plan, result, hold.message, hold)


@dataclass
class Guarded:
    """``syncer apply``'s environments, planned, with what holds their writes."""

    tree: Tree
    plans: list[EnvironmentPlan]  # every environment; a held one carries its ``hold``
    overridden: dict[str, Hold] = field(default_factory=dict)  # closed windows lifted, by env

    def writable(self) -> list[tuple[Environment, EnvironmentPlan]]:
        """The environments apply may write to, with their plans."""
        by_name = {plan.environment: plan for plan in self.plans}
        return [
            (env, by_name[env.name])
            for env in self.tree.environments
            if by_name[env.name].hold is None
        ]


def plan_guarded(
    ws: Workspace,
    envs: Sequence[Environment],
    flow_keys: Sequence[str] = (),
    *,
    at: datetime | None = None,
    allow_dirty: bool = False,
    override_window: bool = False,
) -> Guarded:
    """Pin the tree, refuse unverified commits without contacting their tenants, plan the rest, and
    hold the writes a closed window defers (unless ``override_window``)."""
    tree = pin(ws, envs, allow_dirty=allow_dirty)
    refused = {env.name: verify_hold(tree.ws, env) for env in tree.environments}
    trusted = [env for env in tree.environments if refused[env.name] is None]
    planned = (
        {p.environment: p for p in plan_environments(tree.ws, trusted, flow_keys)}
        if trusted
        else {}
    )
    moment = at or datetime.now(UTC)
    plans: list[EnvironmentPlan] = []
    overridden: dict[str, Hold] = {}
    for env in tree.environments:
        hold = refused[env.name]
        if hold is not None:
            plans.append(EnvironmentPlan(env.name, tree.commit, hold=hold))
            continue
        plan = planned[env.name]
        deferred = window_hold(env, moment, plan.pending_writes(), hint=OVERRIDE_HINT)
        if deferred is not None and override_window:
            overridden[env.name] = deferred
        elif deferred is not None:
            plan.hold = deferred
        plans.append(plan)
    return Guarded(tree, plans, overridden)


def _answers(tenant: Tenant) -> Counter[int]:
    """The HTTP status of every answer, where the tenant's client counts them (``TenantClient``)."""
    stats = getattr(tenant, "stats", None)
    return Counter(stats.by_status) if isinstance(stats, ClientStats) else Counter()
