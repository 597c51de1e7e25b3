"""Gathers the live state of one environment through the client and classifies every flow.

Cost model (SPEC 6, issue 4): one list request per environment; a flow is fetched in full only when the
list summary cannot prove it in sync; tenant history is read only for drifted or conflicting flows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from .client import TenantClient
from .collector import collector_paused
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
)
from .plan import (
    Expected,
    classify,
    desired_for,
    diff,
    expected_from_digest,
    is_managed,
    settled_by_summary,
)
from .workspace import FlowFile, Workspace


def secret_available(variable: str) -> bool:
    """Whether a secret source variable is set; its value is never read here."""
    return bool(os.environ.get(variable))


def plan_environment(
    ws: Workspace, env: Environment, client: TenantClient, flow_keys: Sequence[str] = ()
) -> EnvironmentPlan:
    """The three-way plan of every flow ``env`` receives (or only ``flow_keys``).

    A flow the list summary proves in sync is judged from its file's digest alone: its document is
    neither loaded nor hashed (``FlowPlan.desired`` loads it if a renderer asks).
    """
    summaries = client.list_flows()  # first: the request runs while other environments read Git
    result = EnvironmentPlan(env.name, ws.git_commit)
    by_id = {str(s["definition_id"]): s for s in summaries}
    flows = ws.flows_for(env, flow_keys)
    plans: dict[str, FlowPlan] = {}
    to_fetch: dict[str, str] = {}
    for key, flow in flows.items():
        summary = by_id.get(flow.definition_id)
        if summary is None:
            document = desired_for(flow.document, env)
            plans[key] = _create_or_collision(key, document, summaries, env)
            continue
        expected = expected_from_digest(flow.digest, env, flow.shape_hash(env.ignore))
        if settled_by_summary(expected, summary, env):
            plans[key] = _settled(key, flow, expected, summary, env)
        else:
            to_fetch[flow.definition_id] = key
    if to_fetch:
        # The requests run while each flow's desired document is prepared and the ones already
        # fetched are classified.
        with client.iter_flows(list(to_fetch)) as fetched:
            for key in to_fetch.values():
                flow = flows[key]
                with collector_paused():  # per flow: responses' garbage in cycles waits meanwhile
                    desired = desired_for(flow.document, env)
                live = next(fetched)
                shape = flow.shape_hash(env.ignore)
                with collector_paused():
                    plans[key] = classify(key, desired, live, env, secret_available, shape)
                if plans[key].status in (Status.DRIFT, Status.CONFLICT):
                    _explain_live_edits(plans[key], live, client, ws, env)
    result.flows = [plans[k] for k in sorted(plans)]
    if not flow_keys:
        wanted = {flow.definition_id for flow in flows.values()}
        result.flows.extend(_orphans(summaries, wanted, env))
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


class _SettledPlan(FlowPlan):
    """An in-sync verdict whose desired document is loaded only when something reads ``desired``.

    A no-op plan of a thousand flows must not hold a thousand documents (several hundred kilobytes of
    objects each) per environment; the few renderings that draw an in-sync flow still get it.
    """

    _desired_value: dict[str, Any] | None = None
    _desired_load: Callable[[], dict[str, Any]] | None = None

    @property
    def desired(self) -> dict[str, Any] | None:
        if self._desired_value is None and self._desired_load is not None:
            self._desired_value = self._desired_load()
            self._desired_load = None
        return self._desired_value

    @desired.setter
    def desired(self, value: dict[str, Any] | None) -> None:
        self._desired_value = value
        self._desired_load = None


def _settled(
    key: str, flow: FlowFile, expected: Expected, summary: dict[str, Any], env: Environment
) -> FlowPlan:
    """An in-sync verdict proven from the list summary alone."""
    annotations = summary.get("annotations") or {}
    decisions = []
    for ref, concealed, value in expected.values:
        if concealed:
            filled = annotations.get(ANN_FILLED_PREFIX + ref) == "true"
            decision = Decision.KEEP_DESTINATION if filled else Decision.BLANK
            decisions.append(ConstantDecision(ref, True, decision))
        else:
            source = (
                Decision.SET_FROM_ENVIRONMENT if env.override_for(ref)[0] else Decision.SET_FROM_GIT
            )
            decisions.append(ConstantDecision(ref, False, source, value))
    plan = _SettledPlan(
        key,
        flow.definition_id,
        flow.title,
        Status.IN_SYNC,
        constants=decisions,
        live_revision=int(summary["revision"]),
        desired_hash=expected.shape_hash,
    )
    plan._desired_load = lambda: desired_for(flow.document, env)
    return plan


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


def _orphans(summaries: list[dict[str, Any]], wanted: set[str], env: Environment) -> list[FlowPlan]:
    orphans = []
    for summary in summaries:
        annotations = summary.get("annotations") or {}
        if is_managed(annotations) and str(summary["definition_id"]) not in wanted:
            key = annotations.get(ANN_FLOW_KEY) or str(summary.get("key", ""))
            plan = classify(key, None, summary, env, secret_available)
            orphans.append(plan)
    return sorted(orphans, key=lambda p: p.key)
