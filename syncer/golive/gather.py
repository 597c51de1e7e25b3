"""What the go-live checklist reads for one target environment, and the checks run over it.

The planner's view of the environment (one list request and every live body, fetched once), the
tenant's identifier systems, and the source (Sandbox) tenant's copies of the flows; then the pure checks
of ``checks``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..client import client_for
from ..errors import ConfigError
from ..model import Environment, Role, iter_value_items
from ..reconcile.planner import gather
from ..workspace import Workspace
from .checks import FlowFacts, checklist
from .items import EnvironmentChecklist


@dataclass
class _Source:
    """What the source (Sandbox) tenant says, or why it was not asked."""

    name: str | None
    systems: list[dict[str, Any]] | None = None
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)  # definition_id -> GET body
    note: str = ""


def environment_checklist(
    ws: Workspace, env: Environment, flow_keys: Sequence[str] = ()
) -> EnvironmentChecklist:
    """Read what the checklist needs for ``env`` (optionally only ``flow_keys``, which may name a
    flow only the tenant has) and check it."""
    _receives(ws, env, flow_keys)
    with client_for(env) as tenant:
        systems = _identifier_systems(tenant.tenant())
        state = gather(ws, env, tenant, flow_keys, fetch_all=True, tenant_only=True)
    plans = state.plan.flows
    source = _source(ws, env, [p.definition_id for p in plans])
    result = EnvironmentChecklist(env.name, source.name, ws.git_commit)
    for plan in plans:
        flow = ws.flows.get(plan.key)
        facts = FlowFacts(
            env=env,
            plan=plan,
            live=_without_secrets(state.bodies.get(plan.definition_id)),
            git=flow.document if flow is not None else None,
            destination_systems=systems,
            source_name=source.name,
            source_systems=source.systems,
            source_live=_without_secrets(source.flows.get(plan.definition_id)),
            source_note=source.note,
        )
        result.flows.append(checklist(facts))
    return result


def _receives(ws: Workspace, env: Environment, flow_keys: Sequence[str]) -> None:
    """A flow named on the command line that Git has must be one ``env`` receives."""
    for key in flow_keys:
        if key in ws.flows and not env.selects(key):
            raise ConfigError(
                f"environment {env.name} does not receive flow `{key}` (see `flows:` in "
                f"environments/{env.name}.yaml); drop --flow {key} or add it there."
            )


def _source(ws: Workspace, env: Environment, ids: list[str]) -> _Source:
    """The source environment's tenant: its identifier systems and its copies of the flows."""
    sources = [e for e in ws.environments.values() if e.role is Role.SOURCE]
    if not sources:
        return _Source(None, note="no source environment in environments/: nothing to compare with")
    # Several sources: the one in the same region is the natural reference.
    chosen = sorted(sources, key=lambda e: (e.region != env.region, e.name))[0]
    if not os.environ.get(chosen.api_key_env, "").strip():
        # No key for the source here (a Production-only CI job): compare with Git only, and say so.
        return _Source(
            chosen.name,
            note=f"{chosen.name} was not consulted: ${chosen.api_key_env} is not set",
        )
    with client_for(chosen) as tenant:
        systems = _identifier_systems(tenant.tenant())
        present = {str(s["definition_id"]) for s in tenant.list_flows()}
        flows = tenant.get_flows([i for i in ids if i in present])
    return _Source(chosen.name, systems, flows)


def _identifier_systems(tenant_info: dict[str, Any]) -> list[dict[str, Any]]:
    systems = tenant_info.get("identifier_systems") or []
    return [s for s in systems if isinstance(s, dict)] if isinstance(systems, list) else []


def _without_secrets(flow: dict[str, Any] | None) -> dict[str, Any] | None:
    """A tenant never returns a concealed value; should one ever do, it stops here."""
    if flow is None:
        return None
    definition = flow.get("definition")
    if isinstance(definition, dict):
        for _ref, item in iter_value_items(definition):
            if item.get("concealed"):
                item.pop("value", None)
    return flow
