"""Gathers the live state of one environment through the client and classifies every flow.

Cost model (SPEC 6, issue 4): one list request per environment; a flow is fetched in full only when the
list summary cannot prove it in sync; tenant history is read only for drifted or conflicting flows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from . import diff
from .canonical import shape_hash
from .client import TenantClient
from .model import (
    ANN_APPLIED_REVISION,
    ANN_FILLED_PREFIX,
    ANN_FLOW_KEY,
    ANN_GIT_COMMIT,
    ConstantDecision,
    Decision,
    Environment,
    EnvironmentPlan,
    FlowPlan,
    LiveEdit,
    Status,
    iter_value_items,
)
from .plan import classify, desired_for, is_managed, quick_in_sync
from .workspace import Workspace


def secret_available(variable: str) -> bool:
    """Whether a secret source variable is set; its value is never read here."""
    return bool(os.environ.get(variable))


def plan_environment(
    ws: Workspace, env: Environment, client: TenantClient, flow_keys: Sequence[str] = ()
) -> EnvironmentPlan:
    """The three-way plan of every flow ``env`` receives (or only ``flow_keys``)."""
    result = EnvironmentPlan(env.name, ws.git_commit)
    summaries = client.list_flows()
    by_id = {str(s["definition_id"]): s for s in summaries}
    flows = ws.flows_for(env, flow_keys)
    desired = {key: desired_for(flow.document, env) for key, flow in flows.items()}
    plans: dict[str, FlowPlan] = {}
    to_fetch: dict[str, str] = {}
    for key, document in desired.items():
        definition_id = str(document["metadata"]["definition_id"])
        summary = by_id.get(definition_id)
        if summary is None:
            plans[key] = _create_or_collision(key, document, summaries, env)
        elif quick_in_sync(document, summary, env):
            plans[key] = _settled(key, document, summary, env)
        else:
            to_fetch[definition_id] = key
    fetched = client.get_flows(list(to_fetch)) if to_fetch else {}
    for definition_id, key in to_fetch.items():
        plans[key] = classify(key, desired[key], fetched[definition_id], env, secret_available)
        if plans[key].status in (Status.DRIFT, Status.CONFLICT):
            _explain_live_edits(plans[key], fetched[definition_id], client, ws, env)
    result.flows = [plans[k] for k in sorted(plans)]
    if not flow_keys:
        result.flows.extend(_orphans(summaries, desired, env))
    return result


def _create_or_collision(
    key: str, document: dict[str, Any], summaries: list[dict[str, Any]], env: Environment
) -> FlowPlan:
    plan = classify(key, document, None, env, secret_available)
    clash = next((s for s in summaries if s.get("key") == key), None)
    if clash is not None:
        # Ids are sacred: never create a second flow under the same key, never remap the id.
        plan.status = Status.CONFLICT
        plan.reason = (
            f"the tenant has a different flow with key `{key}` (definition_id "
            f"{clash['definition_id']}, Git has {plan.definition_id}); ids are never remapped. "
            "Rename one of them, or remove the stray flow in the tenant."
        )
        plan.changes = []
    return plan


def _settled(
    key: str, document: dict[str, Any], summary: dict[str, Any], env: Environment
) -> FlowPlan:
    """An in-sync verdict proven from the list summary alone."""
    annotations = summary.get("annotations") or {}
    decisions = []
    for ref, item in iter_value_items(document):
        if item.get("concealed"):
            filled = annotations.get(ANN_FILLED_PREFIX + ref) == "true"
            decision = Decision.KEEP_DESTINATION if filled else Decision.BLANK
            decisions.append(ConstantDecision(ref, True, decision))
        else:
            source = (
                Decision.SET_FROM_ENVIRONMENT if env.override_for(ref)[0] else Decision.SET_FROM_GIT
            )
            decisions.append(ConstantDecision(ref, False, source, item.get("value")))
    meta = document["metadata"]
    return FlowPlan(
        key,
        str(meta["definition_id"]),
        str(meta.get("title", "")),
        Status.IN_SYNC,
        constants=decisions,
        live_revision=int(summary["revision"]),
        desired_hash=shape_hash(document, env.ignore),
        desired=document,
    )


def _explain_live_edits(
    plan: FlowPlan, live: dict[str, Any], client: TenantClient, ws: Workspace, env: Environment
) -> None:
    """Who edited what, when: tenant history since syncer's last write, and Git's side of a conflict."""
    annotations = live.get("annotations") or {}
    since = int(annotations.get(ANN_APPLIED_REVISION, "0") or 0)
    history = client.history(plan.definition_id)
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


def _orphans(
    summaries: list[dict[str, Any]], desired: dict[str, dict[str, Any]], env: Environment
) -> list[FlowPlan]:
    wanted = {str(d["metadata"]["definition_id"]) for d in desired.values()}
    orphans = []
    for summary in summaries:
        annotations = summary.get("annotations") or {}
        if is_managed(annotations) and str(summary["definition_id"]) not in wanted:
            key = annotations.get(ANN_FLOW_KEY) or str(summary.get("key", ""))
            plan = classify(key, None, summary, env, secret_available)
            orphans.append(plan)
    return sorted(orphans, key=lambda p: p.key)
