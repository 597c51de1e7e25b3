"""Gathers the live state of one environment through the client; ``plan`` judges every flow.

Cost model (SPEC 6): one list request per environment; a flow is fetched in full only when the list
summary cannot prove it in sync (or when the caller needs every live body, as preflight does); tenant
history is read only for drifted or conflicting flows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..client import Tenant, client_for
from ..errors import ConfigError, SyncError, ValidationError
from ..model import (
    ANN_APPLIED_REVISION,
    ANN_FLOW_KEY,
    ANN_GIT_COMMIT,
    Change,
    Environment,
    EnvironmentPlan,
    FlowPlan,
    Hold,
    HoldKind,
    LiveEdit,
    Role,
    Status,
    is_managed,
)
from ..plan import classify, desired_for, diff, expected_from_digest, settled, settled_by_summary
from ..plan.trusted import trusted_environment
from ..workspace import FlowFile, Workspace
from ..workspace.collector import collector_paused

T = TypeVar("T")


def secret_available(variable: str) -> bool:
    """Whether a secret source variable is set; its value is never read here."""
    return bool(os.environ.get(variable))


@dataclass
class LiveState:
    """One environment as the planner saw it: the plan, the list, and the bodies it fetched."""

    plan: EnvironmentPlan
    summaries: list[dict[str, Any]] = field(default_factory=list)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # definition_id -> GET body


def plan_environment(
    ws: Workspace, env: Environment, tenant: Tenant, flow_keys: Sequence[str] = ()
) -> EnvironmentPlan:
    """The three-way plan of every flow ``env`` receives (or only ``flow_keys``)."""
    return gather(ws, env, tenant, flow_keys).plan


def gather(
    ws: Workspace,
    env: Environment,
    tenant: Tenant,
    flow_keys: Sequence[str] = (),
    *,
    fetch_all: bool = False,
    tenant_only: bool = False,
) -> LiveState:
    """Read ``env`` and plan it. A flow the list summary proves in sync is judged from its file's
    digest alone (its document is neither loaded nor hashed) unless ``fetch_all`` asks for every live
    body; ``tenant_only`` lets ``flow_keys`` name flows that only the tenant has."""
    summaries = tenant.list_flows()  # first: the request runs while other environments read Git
    state = LiveState(
        EnvironmentPlan(env.name, ws.git_commit, uncommitted=ws.uncommitted), summaries
    )
    by_id = {str(s["definition_id"]): s for s in summaries}
    by_key = {str(s.get("key")): s for s in summaries}
    in_git, extra = _split_keys(ws, env, flow_keys, by_key, tenant_only)
    flows = ws.flows_for(env, in_git) if (in_git or not flow_keys) else {}
    plans: dict[str, FlowPlan] = {}
    to_fetch: dict[str, str] = {}
    for key, flow in flows.items():
        summary = by_id.get(flow.definition_id)
        if summary is None:
            document = desired_for(flow.document, env)
            plans[key] = classify(key, document, None, env, secret_available, clash=by_key.get(key))
            continue
        expected = expected_from_digest(flow.digest, env, flow.shape_hash(env.ignore))
        if not fetch_all and settled_by_summary(expected, summary, env):
            load = _loader(flow, env)
            plans[key] = settled(
                key, flow.definition_id, flow.title, expected, summary, env, secret_available, load
            )
        else:
            to_fetch[flow.definition_id] = key
    for key in extra:
        plans[key] = classify(key, None, by_key[key], env, secret_available)
    orphans = [] if flow_keys else _tenant_only(summaries, flows, set(plans), env)
    if fetch_all:  # the caller wants the bodies of the flows only the tenant has, too
        for plan in [plans[k] for k in extra] + orphans:
            to_fetch[plan.definition_id] = ""
    _fetch_and_classify(ws, env, tenant, flows, to_fetch, plans, state)
    state.plan.flows = [plans[k] for k in sorted(plans)] + orphans
    return state


def _split_keys(
    ws: Workspace,
    env: Environment,
    keys: Sequence[str],
    by_key: dict[str, dict[str, Any]],
    tenant_only: bool,
) -> tuple[list[str], list[str]]:
    """The asked-for keys Git has, and those only the tenant has (allowed with ``tenant_only``)."""
    in_git = [k for k in dict.fromkeys(keys) if k in ws.flows or not tenant_only]
    extra = [k for k in dict.fromkeys(keys) if k not in in_git]
    unknown = [k for k in extra if k not in by_key]
    if unknown:
        known = ", ".join(sorted(set(ws.flows) | set(by_key))) or "none"
        raise ConfigError(
            f"no flow `{unknown[0]}` in flows/ or in {env.name} (known: {known}); check --flow."
        )
    return in_git, extra


def _loader(flow: FlowFile, env: Environment) -> Callable[[], dict[str, Any]]:
    return lambda: desired_for(flow.document, env)


def _fetch_and_classify(
    ws: Workspace,
    env: Environment,
    tenant: Tenant,
    flows: dict[str, FlowFile],
    to_fetch: dict[str, str],
    plans: dict[str, FlowPlan],
    state: LiveState,
) -> None:
    """Fetch ``to_fetch`` (definition_id -> key, "" for a body wanted only for the caller) and judge
    each fetched flow of Git; the requests run while the desired documents are prepared."""
    if not to_fetch:
        return
    with tenant.iter_flows(list(to_fetch)) as fetched:
        for definition_id, key in to_fetch.items():
            if not key:
                state.bodies[definition_id] = next(fetched)
                continue
            flow = flows[key]
            with collector_paused():  # per flow: responses' garbage in cycles waits meanwhile
                desired = desired_for(flow.document, env)
            live = next(fetched)
            state.bodies[definition_id] = live
            shape = flow.shape_hash(env.ignore)
            with collector_paused():
                plans[key] = classify(key, desired, live, env, secret_available, shape)
            if plans[key].status in (Status.DRIFT, Status.CONFLICT):
                _explain_live_edits(plans[key], live, tenant, ws, env)


def _explain_live_edits(
    plan: FlowPlan, live: dict[str, Any], tenant: Tenant, ws: Workspace, env: Environment
) -> None:
    """Who edited what, when: tenant history since syncer's last write, and Git's side of a conflict."""
    annotations = live.get("annotations") or {}
    since = int(annotations.get(ANN_APPLIED_REVISION, "0") or 0)
    history = tenant.history(plan.definition_id)
    plan.live_edits = [
        LiveEdit(
            int(h["revision"]),
            str(h.get("user", "")),
            str(h.get("at", "")),
            bool(h.get("hotfix")),
            str(h.get("edit_source", "")),
        )
        for h in history
        if int(h["revision"]) > since
    ]
    if plan.status is Status.CONFLICT and plan.desired is not None:
        applied = ws.flow_at(annotations.get(ANN_GIT_COMMIT, ""), plan.key)
        if applied is not None and plan.live is not None:
            last = desired_for(applied, env)
            plan.git_side = diff.diff(last, plan.desired, env.ignore)
            plan.changes = diff.diff(last, plan.live, env.ignore)  # Production's own edits


def _tenant_only(
    summaries: list[dict[str, Any]],
    flows: dict[str, FlowFile],
    planned: set[str],
    env: Environment,
) -> list[FlowPlan]:
    """The tenant's flows that Git does not give this environment: orphaned (syncer wrote them) or
    untracked (made in the tenant). An untracked flow holding the key of a flow Git has is left
    out: that flow's conflict already names it."""
    wanted = {f.definition_id for f in flows.values()}
    found = []
    for summary in summaries:
        if str(summary["definition_id"]) in wanted:
            continue
        annotations = summary.get("annotations") or {}
        key = annotations.get(ANN_FLOW_KEY) or str(summary.get("key", ""))
        if not is_managed(annotations) and key in planned:
            continue
        found.append(classify(key, None, summary, env, secret_available))
    return sorted(found, key=lambda p: (p.status is Status.UNTRACKED, p.key))


def for_each_environment(envs: Sequence[Environment], work: Callable[[Environment], T]) -> list[T]:
    """Run ``work(env)`` for every environment at once (threads: the work is network-bound).

    The first error is raised after every environment finished, so one slow tenant never hides
    another's outcome.
    """
    if len(envs) <= 1:
        return [work(env) for env in envs]
    with ThreadPoolExecutor(max_workers=min(8, len(envs))) as pool:
        futures = [pool.submit(work, env) for env in envs]
        results, errors = [], []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return results


def plan_environments(
    ws: Workspace, envs: Sequence[Environment], flow_keys: Sequence[str] = ()
) -> list[EnvironmentPlan]:
    """The plan of every environment in ``envs``, in parallel; the whole Git state is validated once
    before any request, and so is every key of ``flow_keys`` (before an API key is looked for)."""
    for env in envs:
        ws.flows_for(env, flow_keys)

    def one(env: Environment) -> EnvironmentPlan:
        with client_for(env) as tenant:
            return plan_environment(ws, env, tenant, flow_keys)

    return for_each_environment(envs, one)


def plan_reviewed(
    head: Workspace,
    trusted: Workspace,
    names: Sequence[str],
    flow_keys: Sequence[str] = (),
    *,
    trusted_label: str = "the base",
) -> list[EnvironmentPlan]:
    """The plans of ``head``'s target environments (``names``, default all), where every tenant is
    called at the URL and with the key variable ``trusted`` gives it (``plan.trusted``): a reviewed
    change never decides where an API key goes. What differs is in each plan's
    ``environment_changes``; an environment only ``head`` has is not contacted (its plan says so)."""
    chosen = head.select(names, Role.TARGET)
    try:
        known = trusted.environments
    except ValidationError as exc:
        raise ConfigError(
            f"the environment files at {trusted_label} (the trusted side) are not valid, so no "
            f"tenant was contacted: {exc}"
        ) from None
    envs, changes = [], {}
    for env in chosen:
        if env.name in known:
            merged, changes[env.name] = trusted_environment(known[env.name], env)
            envs.append(merged)
    planned = {p.environment: p for p in plan_environments(head, envs, flow_keys)} if envs else {}
    plans = []
    for env in chosen:
        plan = planned.get(env.name) or EnvironmentPlan(
            env.name, head.git_commit, hold=_untrusted(env, trusted_label)
        )
        plan.environment_changes = changes.get(env.name, [])
        plans.append(plan)
    return plans


def _untrusted(env: Environment, trusted_label: str) -> Hold:
    return Hold(
        HoldKind.UNTRUSTED,
        f"environment {env.name} is new in this change: {trusted_label} (the trusted side) does "
        "not know its tenant, so syncer did not contact it or send it a key, and planned nothing "
        "there. Review its url and api_key_env; after the merge it is planned like the others.",
    )


def add_base_changes(plans: Sequence[EnvironmentPlan], ws: Workspace, base: Workspace) -> None:
    """Record, as each flow's ``git_side``, what Git changed between ``base`` and ``ws`` (a pull
    request's own change, shown even when the tenants are ahead or behind)."""
    try:
        before = base.flows
    except SyncError:  # an invalid base must not hide the report of the reviewed state
        before = {}
    for plan in plans:
        env = ws.environment(plan.environment)
        for flow in plan.flows:
            old = before.get(flow.key)
            if flow.desired is None or flow.git_side:
                continue
            if old is None:
                flow.git_side = [
                    Change("flow", "added", description=f"flow {flow.title} added in this change")
                ]
            else:
                flow.git_side = diff.diff(desired_for(old.document, env), flow.desired, env.ignore)
