"""``syncer publish``'s rules: never while preflight blocks (unless forced), never a drifted or
conflicting working version, and never a revision other than the one preflight checked.

The publish POST is not conditional, so the revision is checked right before it and compared right after
it; the published version's ``notes`` record the Git commit, the actor and what preflight said (counts
and blocking item names, never a value).
"""

from __future__ import annotations

from typing import Any

from ..client import Tenant, client_for
from ..errors import EXIT_ERROR, RefusedError
from ..model import Environment, Status
from .items import EnvironmentChecklist, FlowChecklist

_NEVER_FORCED = (Status.DRIFT, Status.CONFLICT)


def refuse_unless_ready(checked: EnvironmentChecklist, *, force: bool) -> None:
    env = checked.environment
    absent = [f.key for f in checked.flows if f.live_revision is None]
    if absent:
        raise RefusedError(
            f"{', '.join(absent)} not in {env}, so there is nothing to publish; promote it first "
            f"with `syncer apply --env {env} --flow KEY`.",
            exit_code=EXIT_ERROR,
        )
    never = [f for f in checked.flows if f.status in _NEVER_FORCED]
    blocked = [f for f in checked.flows if f.blocking()]
    if never or (blocked and not force):
        lines = [
            f"{f.key}: {item.name}: {item.message}"
            for f in (never or blocked)
            for item in f.blocking()
        ]
        how = (
            "a drifted or conflicting working version is never published by syncer, even with "
            "--force: backport or overwrite the hotfix first"
            if never
            else "fix them and run preflight again, or pass --force to publish anyway (the "
            "blocking items are recorded in the version's notes)"
        )
        raise RefusedError(
            f"publish refused in {env}, nothing was published:\n  "
            + "\n  ".join(lines)
            + f"\n{how}."
        )


def publication_notes(flow: FlowChecklist, repository_commit: str, who: str, forced: bool) -> str:
    """A published version's notes: where it came from, who published it, what preflight said."""
    counts = flow.counts()
    blocking = [item.name for item in flow.blocking()]
    lines = [
        "Published with syncer publish.",
        f"git-commit: {flow.applied_commit or repository_commit}",
        f"repository-commit: {repository_commit}",
        f"actor: {who}",
        f"working-revision: {flow.live_revision}",
        "preflight: " + ", ".join(f"{n} {level}" for level, n in counts.items()),
        f"blocking: {'; '.join(blocking) if blocking else 'none'}",
        f"forced: {'yes' if forced and blocking else 'no'}",
    ]
    return "\n".join(lines)


def publish_checked(
    env: Environment,
    checked: EnvironmentChecklist,
    repository_commit: str,
    actor: str,
    forced: bool,
) -> list[dict[str, Any]]:
    """Publish every flow preflight checked, each at exactly the revision it checked."""
    notes = {f.key: publication_notes(f, repository_commit, actor, forced) for f in checked.flows}
    with client_for(env) as tenant:
        return [_publish_one(tenant, env, flow, notes[flow.key]) for flow in checked.flows]


def _publish_one(
    tenant: Tenant, env: Environment, flow: FlowChecklist, notes: str
) -> dict[str, Any]:
    # The publish POST is not conditional, so the revision is checked right before it and compared
    # right after it: an edit in between is reported, never silently published as "checked".
    current = tenant.get_flow(flow.definition_id)
    if int(current["revision"]) != flow.live_revision:
        raise RefusedError(
            f"{flow.key} changed in {env.name} since preflight (revision {flow.live_revision} -> "
            f"{current['revision']}); nothing more was published. Run publish again.",
            exit_code=EXIT_ERROR,
        )
    version = tenant.publish(flow.definition_id, notes)
    result = {"key": flow.key, "definition_id": flow.definition_id, **version}
    revision = version.get("revision")
    if revision is not None and int(revision) != flow.live_revision:
        result["moved"] = True  # someone edited it while publishing: the command says so
        result["checked_revision"] = flow.live_revision
    return result
