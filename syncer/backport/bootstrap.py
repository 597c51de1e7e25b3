"""The one-time reverse copy the platform allows (``syncer bootstrap --from PROD --to SANDBOX``).

A flow that exists only in Production (built there as a hotfix, or before syncer) is copied into Sandbox
once, so that from then on it travels the normal way (Sandbox -> Git -> Production). Guards, all checked
before the first write (a refusal writes nothing, exit 3):

- ``--from`` is a target environment and ``--to`` a source one (exit 1 otherwise);
- a flow that already exists in Sandbox is refused, naming it and any earlier bootstrap recorded on it
  (``syncer.io/bootstrapped-from``), unless ``--force``;
- a Sandbox flow with the same key but another definition id is refused even with ``--force``: ids are
  never remapped.

The copy is a create (``If-None-Match: *``); with ``--force`` over an existing flow it is a conditional
update (``If-Match``) that keeps Sandbox's values. Concealed values are never copied: blank in Sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..client import Tenant, client_for
from ..errors import ConfigError, RefusedError
from ..model import ANN_BOOTSTRAP, Environment, Role, iter_value_items
from ..reconcile.apply import now
from ..workspace import Workspace
from . import with_own_values


@dataclass
class _Copy:
    """One flow to copy: Production's summary and Sandbox's flow when ``--force`` overwrites it."""

    key: str
    definition_id: str
    existing: dict[str, Any] | None = None


def bootstrap(
    ws: Workspace, source_name: str, target_name: str, keys: list[str], force: bool
) -> list[dict[str, Any]]:
    """Copy the flows only ``source_name`` (Production) has, or ``keys``, into ``target_name``
    (Sandbox); every refusal is raised before the first write. One result per flow copied."""
    source, target = _environments(ws.environment(source_name), ws.environment(target_name))
    with client_for(source) as production, client_for(target) as sandbox:
        copies = _select(production, sandbox, keys, force, source, target)
        return [_copy(production, sandbox, item, source) for item in copies]


def _environments(source: Environment, target: Environment) -> tuple[Environment, Environment]:
    if source.role is not Role.TARGET:
        raise ConfigError(
            f"--from must name a target (Production) environment; `{source.name}` has role "
            f"{source.role.value}. Bootstrap copies a Production-only flow into Sandbox."
        )
    if target.role is not Role.SOURCE:
        raise ConfigError(
            f"--to must name a source (Sandbox) environment; `{target.name}` has role "
            f"{target.role.value}. Production is only written by apply, from Git."
        )
    return source, target


def _select(
    production: Tenant,
    sandbox: Tenant,
    keys: list[str],
    force: bool,
    source: Environment,
    target: Environment,
) -> list[_Copy]:
    """The flows to copy; every refusal is collected and raised before anything is written."""
    live = {str(s["key"]): s for s in production.list_flows()}
    present = {str(s["definition_id"]): s for s in sandbox.list_flows()}
    by_key = {str(s["key"]): s for s in present.values()}
    unknown = [k for k in keys if k not in live]
    if unknown:
        raise ConfigError(
            f"{source.name} has no flow {', '.join(unknown)} "
            f"(it has: {', '.join(sorted(live)) or 'none'})."
        )
    wanted = keys or [k for k, s in sorted(live.items()) if str(s["definition_id"]) not in present]
    copies, refusals = [], []
    for key in wanted:
        definition_id = str(live[key]["definition_id"])
        clash = by_key.get(key)
        if clash is not None and str(clash["definition_id"]) != definition_id:
            refusals.append(
                f"`{key}`: {target.name} has another flow with this key (definition_id "
                f"{clash['definition_id']}, {source.name} has {definition_id}); ids are never "
                "remapped, so rename one of them first (--force does not help)"
            )
        elif definition_id in present and not force:
            refusals.append(_exists(key, present[definition_id], target.name))
        else:
            existing = sandbox.get_flow(definition_id) if definition_id in present else None
            copies.append(_Copy(key, definition_id, existing))
    if refusals:
        raise RefusedError(
            "bootstrap refused, nothing was written:\n  - " + "\n  - ".join(refusals)
        )
    return copies


def _exists(key: str, summary: dict[str, Any], target: str) -> str:
    done = (summary.get("annotations") or {}).get(ANN_BOOTSTRAP)
    before = f"; it was bootstrapped before ({done})" if done else ""
    return (
        f"`{key}` already exists in {target}{before}. Bootstrap is a one-time copy: pass --force "
        f"to overwrite {target}'s working version (its values are kept, its unexported edits lost)"
    )


def _copy(production: Tenant, sandbox: Tenant, item: _Copy, source: Environment) -> dict[str, Any]:
    live = production.get_flow(item.definition_id)
    existing = item.existing
    body = with_own_values(live["definition"], existing["definition"] if existing else None)
    annotations = dict(existing.get("annotations") or {}) if existing else {}
    annotations[ANN_BOOTSTRAP] = f"{source.name}@r{live['revision']} {now()}"
    answer = sandbox.put_flow(
        item.definition_id,
        body,
        annotations=annotations,
        create=existing is None,
        if_match=int(existing["revision"]) if existing else None,
        edit_source="syncer",
    )
    blank = [r for r, i in iter_value_items(body) if i.get("concealed")]
    return {
        "key": item.key,
        "definition_id": item.definition_id,
        "from": source.name,
        "from_revision": int(live["revision"]),
        "action": "overwritten" if existing else "created",
        "revision": int(answer["revision"]),
        "concealed_not_copied": blank,
        "recorded": annotations[ANN_BOOTSTRAP],
    }
