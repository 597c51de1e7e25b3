"""The one-off ``syncer backport``: a Production hotfix onto a branch in Git, optionally into Sandbox's
working version, pushed and proposed as a pull request (docs/hotfixes.md).

Guards, checked before anything is written: one target environment and one flow; a clean work tree
(the user's edits are never touched); a flow that is drifted or conflicting (anything else is said and
left alone); a branch name that is free, or already holds exactly this backport (a rerun converges); for
``--to-sandbox``, a Sandbox with no unexported work on the flow (refused otherwise). The work tree always
ends on the branch or commit it started on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import backport as bp
from .. import vcs
from ..client import client_for
from ..errors import (
    AuthError,
    ConfigError,
    GitError,
    PreconditionFailed,
    RefusedError,
    Rejected,
    UsageError,
)
from ..github import GitHub
from ..model import Environment, EnvironmentPlan, FlowPlan, Role, Status
from ..reconcile.apply import now
from ..reconcile.planner import plan_environment
from ..workspace import Workspace
from .pulls import open_pull, pull_request_text

if TYPE_CHECKING:
    import git


@dataclass(frozen=True)
class Request:
    """What ``syncer backport`` was asked to do, as plain values."""

    environment: str
    key: str
    branch: str | None = None
    base: str | None = None  # branch from and into this (default: the current branch)
    to_sandbox: str | None = None  # None: not asked; "": the only source environment
    push: bool = False
    open_pr: bool = False
    remote: str = "origin"


@dataclass
class Outcome:
    """What one backport did, for the reviewer and for ``--output json``."""

    environment: str
    key: str
    status: str
    branch: str = ""
    base: str = ""
    commit: str | None = None
    reused: bool = False
    pushed: bool = False
    pull_request: dict[str, Any] | None = None
    sandbox: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def carried(self) -> bool:
        """Whether there was a hotfix to carry (a drifted or conflicting flow)."""
        return bool(self.branch)


def backport_hotfix(
    ws: Workspace,
    request: Request,
    on_committed: Callable[[EnvironmentPlan, Outcome], None] = lambda _plan, _outcome: None,
) -> tuple[Outcome, EnvironmentPlan]:
    """Carry the hotfix of ``request.key`` in ``request.environment`` back; ``on_committed`` runs once
    the branch holds it (before Sandbox, the push and the pull request, which may fail on their own)."""
    repo = vcs.require_repo(ws.root)
    env = ws.select([request.environment], Role.TARGET)[0]
    sandbox = (
        sandbox_environment(ws, request.to_sandbox) if request.to_sandbox is not None else None
    )
    vcs.require_clean(repo, "backport")
    base_ws = Workspace(ws.root, request.base) if request.base else ws
    base_branch = request.base or vcs.current_branch(repo) or ""
    if request.open_pr and not base_branch:
        raise UsageError("HEAD is detached, so the pull request has no base: pass --base BRANCH.")
    github = GitHub.from_env() if request.open_pr else None
    flow, env_plan = plan_flow(base_ws, env, request.key)
    outcome = Outcome(env.name, request.key, flow.status.value, base=base_branch)
    if flow.status not in bp.BACKPORTABLE or flow.live is None:
        return outcome, env_plan
    outcome.branch = request.branch or bp.default_branch(env.name, request.key, flow.live_revision)
    git_document = base_ws.flows[request.key].document
    backported = bp.backport_document(flow.live, git_document, env.name, env.ignore)
    outcome.notes = backported.notes
    rel = bp.flow_path(request.key)
    outcome.reused = vcs.branch_holds(repo, outcome.branch, rel, backported.text)
    sandbox_live = (
        _check_sandbox(sandbox, git_document, request.key, backported) if sandbox else None
    )
    if sandbox is not None and sandbox_live is not None:
        _probe_sandbox(sandbox, sandbox_live, backported, git_document, flow, env)
    if not outcome.reused:
        message = bp.commit_message(flow, env.name, backported)
        start = request.base or "HEAD"
        outcome.commit = vcs.commit_on_branch(
            repo, ws.root, outcome.branch, start, rel, backported.text, message
        )
    on_committed(env_plan, outcome)
    if sandbox is not None and sandbox_live is None:
        outcome.sandbox = {"environment": sandbox.name, "revision": None, "already": True}
    elif sandbox is not None and sandbox_live is not None:
        outcome.sandbox = _write_sandbox(sandbox, sandbox_live, backported, git_document, flow, env)
    if request.push or request.open_pr:
        _push(repo, request.remote, outcome)
    if github is not None:
        with github:
            title, text = pull_request_text(env_plan, flow, backported, outcome.branch)
            outcome.pull_request = open_pull(github, title, text, outcome.branch, outcome.base)
    return outcome, env_plan


def sandbox_environment(ws: Workspace, name: str) -> Environment:
    """The source environment ``--to-sandbox`` writes to (named, or the only one)."""
    if name:
        env = ws.environment(name)
        if env.role is not Role.SOURCE:
            raise ConfigError(
                f"--to-sandbox writes to a source (Sandbox) environment, and `{name}` has role "
                f"{env.role.value}. Name the Sandbox environment."
            )
        return env
    envs = ws.select([], Role.SOURCE)
    if len(envs) > 1:
        names = ", ".join(e.name for e in envs)
        raise UsageError(
            f"there are several source environments ({names}): pass --to-sandbox NAME."
        )
    return envs[0]


def plan_flow(ws: Workspace, env: Environment, key: str) -> tuple[FlowPlan, EnvironmentPlan]:
    """The three-way plan of one flow in one environment; unknown flows are errors (exit 1)."""
    flows = ws.flows
    if key not in flows:
        raise ConfigError(
            f"no flow `{key}` in flows/ (known: {', '.join(sorted(flows)) or 'none'}). A flow that "
            f"exists only in {env.name} comes into Git through `syncer bootstrap --from {env.name} "
            "--to SANDBOX --flow KEY`, then `syncer export`."
        )
    if not env.selects(key):
        raise ConfigError(
            f"environment {env.name} does not receive flow `{key}` (see `flows:` in {env.path or 'its file'}); "
            "there is nothing to backport from it."
        )
    with client_for(env) as tenant:
        env_plan = plan_environment(ws, env, tenant, [key])
    flow = env_plan.flows[0]
    if flow.live is None and flow.status in (Status.CREATE, Status.CONFLICT):
        why = flow.reason or f"{env.name} has no flow `{key}`"
        raise ConfigError(f"{why}; there is nothing to backport.")
    return flow, env_plan


def _check_sandbox(
    sandbox: Environment, git_document: dict[str, Any], key: str, backported: bp.Backported
) -> dict[str, Any] | None:
    """Sandbox's flow when it may be written: it has no unexported work; None when it carries the
    hotfix already (a rerun); refuses (exit 3) otherwise."""
    definition_id = str(git_document["metadata"]["definition_id"])
    with client_for(sandbox) as tenant:
        ids = {str(s["definition_id"]) for s in tenant.list_flows()}
        if definition_id not in ids:
            raise RefusedError(
                f"{sandbox.name} has no flow `{key}` (definition_id {definition_id}), so --to-sandbox "
                "has nothing to update; nothing was changed. Run the backport without --to-sandbox."
            )
        live = tenant.get_flow(definition_id)
    edits = bp.unexported_edits(live["definition"], git_document)
    if edits and not bp.unexported_edits(live["definition"], backported.document):
        return None  # an earlier run of this backport wrote it already
    if edits:
        listed = "\n".join(f"  - {c.description}" for c in edits[:20])
        more = f"\n  - ... and {len(edits) - 20} more" if len(edits) > 20 else ""
        raise RefusedError(
            f"{sandbox.name} has edits to `{key}` that were never exported; writing the hotfix "
            f"there would lose them:\n{listed}{more}\nNothing was changed. Export them first "
            f"(`syncer export --env {sandbox.name} --flow {key} --commit`) and merge that, or run "
            "the backport without --to-sandbox and make the hotfix in Sandbox by hand."
        )
    return live


def _sandbox_write(
    live: dict[str, Any],
    backported: bp.Backported,
    git_document: dict[str, Any],
    flow: FlowPlan,
    source: Environment,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and annotations of the Sandbox write; Sandbox's values and concealed values stay."""
    body = bp.sandbox_body(backported.document, live["definition"], git_document)
    annotations = dict(live.get("annotations") or {})
    annotations[bp.ANN_BACKPORTED] = f"{source.name}@r{flow.live_revision} {now()}"
    return body, annotations


def _probe_sandbox(
    sandbox: Environment,
    live: dict[str, Any],
    backported: bp.Backported,
    git_document: dict[str, Any],
    flow: FlowPlan,
    source: Environment,
) -> None:
    """Prove, before the branch and commit exist, that Sandbox will take the write: the same PUT
    with an If-Match no revision has (0). A tenant checks the key, its scope and the body before the
    precondition (SPEC 5), so the answer is 412 (nothing written) when the real write would pass;
    a read-only key (403) or a body Sandbox refuses (422) stops the backport with nothing made."""
    body, annotations = _sandbox_write(live, backported, git_document, flow, source)
    nothing = "nothing was created: no branch, no commit, and Sandbox is unchanged"
    with client_for(sandbox) as tenant:
        try:
            tenant.put_flow(
                flow.definition_id, body, annotations=annotations, if_match=0, edit_source="syncer"
            )
        except PreconditionFailed:
            return  # the expected answer: allowed, valid, and not written
        except AuthError as exc:
            raise AuthError(
                f"--to-sandbox writes Sandbox's working version, and {sandbox.name} refused the "
                f"API key in ${sandbox.api_key_env} for that; {nothing}. Use a key with the `write` "
                f"scope for {sandbox.name}, or run the backport without --to-sandbox.",
                environment=sandbox.name,
                flow=flow.key,
                status=exc.status,
            ) from None
        except Rejected as exc:
            raise Rejected(
                f"{sandbox.name} would refuse the hotfix ({exc.detail}); {nothing}.",
                environment=sandbox.name,
                flow=flow.key,
                status=exc.status,
            ) from None
    raise RefusedError(  # the tenant ignored If-Match: it must not be written again blindly
        f'{sandbox.name} accepted a write with If-Match: "0", which no revision has; it does '
        "not honour conditional writes, so syncer will not write it. Check its url."
    )


def _write_sandbox(
    sandbox: Environment,
    live: dict[str, Any],
    backported: bp.Backported,
    git_document: dict[str, Any],
    flow: FlowPlan,
    source: Environment,
) -> dict[str, Any]:
    """The conditional Sandbox write; Sandbox's values and concealed values stay."""
    body, annotations = _sandbox_write(live, backported, git_document, flow, source)
    with client_for(sandbox) as tenant:
        try:
            answer = tenant.put_flow(
                flow.definition_id,
                body,
                annotations=annotations,
                if_match=int(live["revision"]),
                edit_source="syncer",
            )
        except PreconditionFailed:
            raise RefusedError(
                f"{sandbox.name} changed `{flow.key}` while the backport ran; Sandbox was not "
                "written (the Git branch was, and was not pushed). Look at Sandbox's edit; if it "
                "is to be kept, export it first; then run the same command again.",
                exit_code=3,
            ) from None
    return {"environment": sandbox.name, "revision": int(answer["revision"])}


def _push(repo: git.Repo, remote: str, outcome: Outcome) -> None:
    """Push the branch; a failure explains what exists locally and how to finish by hand."""
    try:
        vcs.push(repo, remote, outcome.branch)
    except GitError as exc:
        commit = f" (commit {outcome.commit[:12]})" if outcome.commit else ""
        sandbox = (
            f" Sandbox `{outcome.sandbox['environment']}` was updated already."
            if outcome.sandbox
            else ""
        )
        raise GitError(
            f"{exc}\nThe backport is committed locally: branch `{outcome.branch}`{commit} exists in "
            f"this repository and the work tree is back where it was.{sandbox} Push it by hand "
            f"with `git push {remote} {outcome.branch}` (or fix the remote and run the same "
            f"command again: it reuses the branch), or drop it with `git branch -D {outcome.branch}`."
        ) from None
    outcome.pushed = True
