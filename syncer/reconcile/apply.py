"""Executes a plan through the client: create and update only, every write conditional.

Guards (SPEC 6): drift, conflict, unmanaged and orphaned flows are left untouched unless the caller passes
exactly the override that names them (``adopt`` for unmanaged, ``overwrite`` with the flow's key for a
drifted or conflicting flow). A 412 re-reads the flow and re-classifies it; it never overwrites. Each PUT
is atomic in the tenant, so a failure midway leaves every flow fully old or fully new, and a rerun
converges.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..client import Tenant
from ..errors import (
    EXIT_ATTENTION,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    PreconditionFailed,
    RefusedError,
    TenantError,
    TenantUnreachable,
    UsageError,
)
from ..model import (
    ANN_UNCOMMITTED,
    ANN_WINDOW_OVERRIDE,
    NEEDS_PERSON,
    Environment,
    EnvironmentPlan,
    FlowPlan,
    HoldKind,
    Status,
)
from ..plan import annotations_after, annotations_stale, classify, write_body
from ..report import logs
from .planner import secret_available

log = logging.getLogger(__name__)


@dataclass
class FlowResult:
    key: str
    action: str  # created | updated | refreshed | unchanged | skipped | refused | stale | failed
    detail: str = ""
    revision: int | None = None


@dataclass
class ApplyResult:
    environment: str
    results: list[FlowResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(r.action in ("failed", "stale") for r in self.results)

    def writes(self) -> int:
        return sum(1 for r in self.results if r.action in ("created", "updated", "refreshed"))


@dataclass(frozen=True)
class ApplyOptions:
    adopt: bool = False
    overwrite: str | None = None  # the one flow key whose drift/conflict may be overwritten
    actor: str = "syncer"
    only: frozenset[str] | None = None  # a saved plan: apply exactly these flows
    window_override: str = ""  # apply --override-window REASON: why a closed window was lifted


def now() -> str:
    """The time recorded on a write (UTC, to the second)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor() -> str:
    """Who writes or publishes: $SYNCER_ACTOR, else $GITHUB_ACTOR, else the OS user, else
    ``unknown`` (a bare container has no user name, and that must not stop a run)."""
    named = os.environ.get("SYNCER_ACTOR") or os.environ.get("GITHUB_ACTOR")
    if named:
        return named
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _intent(plan: FlowPlan, options: ApplyOptions) -> str | None:
    """What to do with a flow: create, update, refresh (annotations only) or None (leave it)."""
    if options.only is not None and plan.key not in options.only:
        return None
    if plan.status is Status.CREATE:
        return "create"
    if plan.status is Status.UPDATE:
        return "update"
    if plan.status is Status.UNMANAGED and options.adopt:
        return "update"
    if plan.status in (Status.DRIFT, Status.CONFLICT) and options.overwrite == plan.key:
        return "update"
    if plan.status is Status.IN_SYNC and plan.live is not None:
        return "refresh"
    return None


def apply_plan(
    plan: EnvironmentPlan,
    env: Environment,
    client: Tenant,
    options: ApplyOptions,
    progress: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Apply every flow of ``plan`` that may be written; report the others.

    ``should_stop`` is asked before each write: once it says yes (``syncer serve`` got SIGTERM), the
    write in flight has finished and no other starts; the flows left are reported as skipped.
    """
    result = ApplyResult(env.name)
    for flow in plan.flows:
        intent = _intent(flow, options)
        if intent == "refresh" and not annotations_stale(flow):
            continue
        if intent is None:
            if flow.status not in (Status.IN_SYNC, Status.UNTRACKED):  # nothing to say
                result.results.append(_logged(env, flow, "skipped", _why_skipped(flow)))
            continue
        if should_stop is not None and should_stop():
            result.results.append(_logged(env, flow, "skipped", _STOPPING))
            continue
        try:
            outcome = _write(
                flow, env, client, options, plan.git_commit, intent, uncommitted=plan.uncommitted
            )
        except TenantUnreachable as exc:
            result.results.append(_logged(env, flow, "failed", str(exc)))
            break  # the tenant is gone: stop here; every flow written so far is complete
        except TenantError as exc:
            outcome = FlowResult(flow.key, "failed", str(exc))
        result.results.append(_logged(env, flow, outcome.action, outcome.detail, outcome.revision))
        if progress:
            progress(f"{env.name}: {flow.key} {outcome.action}")
    return result


def _notes(options: ApplyOptions, uncommitted: Sequence[str]) -> dict[str, str]:
    """What this write records beyond the last-applied state: uncommitted files written
    (``--allow-dirty``) and who lifted a closed window and why (``--override-window``)."""
    notes = {}
    if uncommitted:
        more = f" (+{len(uncommitted) - 20} more)" if len(uncommitted) > 20 else ""
        notes[ANN_UNCOMMITTED] = ", ".join(uncommitted[:20]) + more
    if options.window_override:
        reason = " ".join(options.window_override.split())[:300]
        notes[ANN_WINDOW_OVERRIDE] = f"{options.actor}: {reason}"
    return notes


_STOPPING = "not written: syncer is shutting down; the next run writes it"


def _logged(
    env: Environment, flow: FlowPlan, action: str, detail: str = "", revision: int | None = None
) -> FlowResult:
    """The result of one flow, also logged as an event (never with a value from the flow)."""
    level = logging.WARNING if action in ("failed", "stale", "refused") else logging.INFO
    logs.event(
        log,
        f"flow.{action}",
        detail or action,
        level=level,
        environment=env.name,
        flow=flow.key,
        status=flow.status.value,
        revision=revision if revision is not None else flow.live_revision,
    )
    return FlowResult(flow.key, action, detail, revision)


def _write(
    flow: FlowPlan,
    env: Environment,
    client: Tenant,
    options: ApplyOptions,
    commit: str,
    intent: str,
    retried: bool = False,
    uncommitted: Sequence[str] = (),
) -> FlowResult:
    create = intent == "create"
    revision = 1 if create else int(flow.live_revision or 0) + 1
    body = write_body(flow, env, os.environ.get)
    annotations = annotations_after(
        flow,
        git_commit=commit,
        actor=options.actor,
        now=now(),
        revision=revision,
        notes=_notes(options, uncommitted),
    )
    try:
        response = client.put_flow(
            flow.definition_id,
            body,
            annotations=annotations,
            if_match=None if create else flow.live_revision,
            create=create,
            edit_source="syncer",
        )
    except PreconditionFailed:
        if retried:
            return FlowResult(flow.key, "stale", "the flow moved twice during apply; run again")
        return _reclassify(flow, env, client, options, commit, uncommitted)
    except TenantError as exc:
        if retried or exc.status is None or not 200 <= exc.status < 300:
            raise
        # A 2xx whose body cannot be read (a proxy mangled it): the write may have landed, so judge
        # again from what the tenant holds now, exactly as after a 412.
        return _reclassify(flow, env, client, options, commit, uncommitted)
    action = {"create": "created", "update": "updated", "refresh": "refreshed"}[intent]
    notes = []
    if flow.status in (Status.DRIFT, Status.CONFLICT):
        editors = ", ".join(sorted({e.user for e in flow.live_edits})) or "unknown"
        notes.append(f"overwrote {flow.status.value} (edits by {editors} discarded)")
    notes += [
        f"{d.key} left blank: its secret source ${d.missing_source} is not set"
        for d in flow.constants
        if d.missing_source
    ]
    revision = int(response.get("revision", revision))
    return FlowResult(flow.key, action, "; ".join(notes), revision)


def _reclassify(
    flow: FlowPlan,
    env: Environment,
    client: Tenant,
    options: ApplyOptions,
    commit: str,
    uncommitted: Sequence[str],
) -> FlowResult:
    """Someone wrote between plan and apply: read again and judge again; never overwrite."""
    live = client.get_flow(flow.definition_id)
    assert flow.desired is not None
    fresh = classify(flow.key, flow.desired, live, env, secret_available)
    intent = _intent(fresh, ApplyOptions(adopt=options.adopt, actor=options.actor))
    if fresh.status in (Status.CREATE, Status.UPDATE) and intent:
        return _write(
            fresh, env, client, options, commit, intent, retried=True, uncommitted=uncommitted
        )
    if fresh.status is Status.IN_SYNC:
        # Live equals desired: this apply's own write landed and only its answer was lost (the
        # retry met the moved revision), or an identical apply won the race. That is success.
        if annotations_stale(fresh):
            return _write(
                fresh,
                env,
                client,
                options,
                commit,
                "refresh",
                retried=True,
                uncommitted=uncommitted,
            )
        return FlowResult(
            flow.key,
            "unchanged",
            f"already as in Git at revision {fresh.live_revision} (an earlier attempt landed "
            "although its answer was lost, or another apply wrote the same); nothing left to do",
            fresh.live_revision,
        )
    return FlowResult(
        flow.key,
        "refused",
        f"changed in {env.name} while applying (now {fresh.status.value}); left untouched",
    )


def _why_skipped(flow: FlowPlan) -> str:
    return {
        Status.DRIFT: "drift: edited in the tenant since syncer wrote it; not overwritten "
        "(backport it, or apply --flow KEY --overwrite-drift)",
        Status.CONFLICT: "conflict: changed in the tenant and in Git; not overwritten",
        Status.UNMANAGED: "unmanaged: not written by syncer; take it over with apply --adopt",
        Status.ORPHANED: "orphaned: no longer in Git; never deleted",
    }.get(flow.status, flow.status.value)


WRITTEN = ("created", "updated", "refreshed")
SETTLED = (*WRITTEN, "unchanged")  # the flow is as desired after this run


def outcome_lines(results: Sequence[ApplyResult]) -> list[str]:
    """What apply did, one line per flow it touched or skipped, and a count per environment."""
    lines = []
    for result in results:
        for item in result.results:
            detail = f" — {item.detail}" if item.detail else ""
            lines.append(f"{result.environment}: {item.key}: {item.action}{detail}")
        lines.append(f"{result.environment}: {result.writes()} write(s)")
    return lines


def exit_code(results: Sequence[ApplyResult], plans: Sequence[EnvironmentPlan]) -> int:
    """SPEC 7 for apply and reconcile: 1 when ``verify`` refused a commit or a write failed; 3 when
    a flow still needs a person (or a write was refused); 2 when a window deferred writes; else 0."""
    refused_commit = any(p.hold is not None and p.hold.kind is HoldKind.VERIFY for p in plans)
    if refused_commit or any(r.failed for r in results):
        return EXIT_ERROR
    written = {(r.environment, i.key) for r in results for i in r.results if i.action in SETTLED}
    waiting = [
        f
        for p in plans
        for f in p.flows
        if f.status in NEEDS_PERSON and (p.environment, f.key) not in written
    ]
    refused = any(i.action == "refused" for r in results for i in r.results)
    if waiting or refused:
        return EXIT_ATTENTION
    deferred = any(p.hold is not None and p.hold.pending for p in plans)
    return EXIT_CHANGES if deferred else EXIT_OK


# -- saved plans --------------------------------------------------------------------------------------


def load_saved_plan(path: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        why = exc.strerror or type(exc).__name__  # the words, not Python's "[Errno 2] ..." form
        raise UsageError(
            f"cannot read the saved plan {path}: {why.lower()}. Save one with `syncer plan --out FILE`."
        ) from None
    except ValueError as exc:
        raise UsageError(
            f"cannot read the saved plan {path}: it is not JSON ({exc}). Save one with `syncer plan "
            "--out FILE`."
        ) from None
    items = data if isinstance(data, list) else [data]
    try:
        return {str(p["environment"]): {str(f["key"]): f for f in p["flows"]} for p in items}
    except (KeyError, TypeError):
        raise UsageError(f"{path} is not a plan saved by `syncer plan --out`.") from None


def check_saved_plan(
    plans: list[EnvironmentPlan], saved: dict[str, dict[str, Any]]
) -> dict[str, frozenset[str]]:
    """A saved plan applies exactly itself: refuse when a flow moved in the tenant or in Git since."""
    only: dict[str, frozenset[str]] = {}
    stale: list[str] = []
    for plan in plans:
        entries = saved.get(plan.environment, {})
        fresh = {f.key: f for f in plan.flows}
        chosen = set()
        for key, entry in entries.items():
            if entry.get("status") not in (Status.CREATE.value, Status.UPDATE.value):
                continue
            now = fresh.get(key)
            if now is None or now.status.value != entry["status"]:
                stale.append(
                    f"{plan.environment}/{key}: was {entry['status']}, now {now.status.value if now else 'gone'}"
                )
            elif now.live_revision != entry.get("live_revision"):
                stale.append(
                    f"{plan.environment}/{key}: live revision moved from {entry.get('live_revision')} to {now.live_revision}"
                )
            elif now.desired_hash != entry.get("desired_hash"):
                stale.append(
                    f"{plan.environment}/{key}: the flow changed in Git since the plan was saved"
                )
            else:
                chosen.add(key)
        only[plan.environment] = frozenset(chosen)
    if stale:
        raise RefusedError(
            "the saved plan is stale, nothing was applied:\n  "
            + "\n  ".join(stale)
            + "\nRun `syncer plan --out FILE` again and review it.",
            exit_code=EXIT_ERROR,
        )
    return only
