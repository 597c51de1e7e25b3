"""`syncer backport`: carry a Production hotfix back into Git on a branch, optionally into Sandbox,
push it and open a pull request. `reconcile --open-backport-prs` does the same in ``backport_prs``.

Guards, checked before anything is written: one target environment and one flow; a clean work tree
(the user's edits are never touched); a flow that is drifted or conflicting (anything else is said and
left alone, exit 0); a branch name that is free, or already holds exactly this backport (a rerun
converges); for ``--to-sandbox``, a Sandbox with no unexported work on the flow (exit 3 otherwise).
The work tree always ends on the branch or commit it started on.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import backport as bp
from .. import vcs
from ..errors import ConfigError, GitError, PreconditionFailed, RefusedError, UsageError
from ..github import GitHub
from ..model import Environment, EnvironmentPlan, FlowPlan, Role, Status
from ..planner import plan_environment
from ..report import render_environment_markdown, render_json, render_text
from ..workspace import Workspace
from ._common import client, color_enabled, emit

if TYPE_CHECKING:
    import git

__all__ = ["run"]


@dataclass
class _Outcome:
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


def run(args: argparse.Namespace) -> int:
    ws, repo, env, key = _inputs(args)
    sandbox = _sandbox_environment(ws, args.to_sandbox) if args.to_sandbox is not None else None
    vcs.require_clean(repo, "backport")
    base_ws = Workspace(ws.root, args.base) if args.base else ws
    base_branch = args.base or vcs.current_branch(repo) or ""
    github = _github(args, base_branch)
    flow, env_plan = plan_flow(base_ws, env, key)
    if flow.status not in bp.BACKPORTABLE or flow.live is None:
        emit(
            f"{key} in {env.name} is {flow.status.value}: nothing to backport (only drift or a "
            "conflict is carried back). No branch was made."
        )
        return 0
    outcome = _Outcome(env.name, key, flow.status.value, base=base_branch)
    outcome.branch = args.branch or bp.default_branch(env.name, key, flow.live_revision)
    git_document = base_ws.flows[key].document
    backported = bp.backport_document(flow.live, git_document, env.name, env.ignore)
    outcome.notes = backported.notes
    outcome.reused = vcs.branch_holds(repo, outcome.branch, bp.flow_path(key), backported.text)
    sandbox_live = _check_sandbox(sandbox, git_document, key, backported) if sandbox else None
    if not outcome.reused:
        message = bp.commit_message(flow, env.name, backported)
        outcome.commit = vcs.commit_on_branch(
            repo,
            ws.root,
            outcome.branch,
            args.base or "HEAD",
            bp.flow_path(key),
            backported.text,
            message,
        )
    if args.output != "json":
        _print_report(env_plan, outcome, args.output)
    if sandbox is not None and sandbox_live is None:
        outcome.sandbox = {"environment": sandbox.name, "revision": None, "already": True}
    elif sandbox is not None and sandbox_live is not None:
        outcome.sandbox = _write_sandbox(sandbox, sandbox_live, backported, git_document, flow, env)
    if args.push or args.open_pr:
        _push(repo, args.remote, outcome)
    if github is not None:
        with github:
            outcome.pull_request = _open_pull(github, env_plan, flow, backported, outcome)
    _print_end(outcome, env_plan, args)
    return 0


def _inputs(args: argparse.Namespace) -> tuple[Workspace, git.Repo, Environment, str]:
    """The repository, the (target) environment and the flow key the command line names."""
    env_name = _exactly_one(args.env, "--env ENV (the environment that holds the hotfix)")
    key = _exactly_one(args.flow, "--flow KEY")
    ws = Workspace(Path(args.repo))
    repo = vcs.require_repo(ws.root)
    return ws, repo, ws.select([env_name], Role.TARGET)[0], key


def _exactly_one(values: list[str], what: str) -> str:
    if len(values) != 1:
        raise UsageError(
            f"backport carries one flow from one environment: pass exactly one {what}."
        )
    return values[0]


def _sandbox_environment(ws: Workspace, name: str) -> Environment:
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


def _github(args: argparse.Namespace, base_branch: str) -> GitHub | None:
    if not args.open_pr:
        return None
    if not base_branch:
        raise UsageError("HEAD is detached, so the pull request has no base: pass --base BRANCH.")
    return GitHub.from_env()


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
    with client(env) as tenant:
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
    with client(sandbox) as tenant:
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


def _write_sandbox(
    sandbox: Environment,
    live: dict[str, Any],
    backported: bp.Backported,
    git_document: dict[str, Any],
    flow: FlowPlan,
    source: Environment,
) -> dict[str, Any]:
    """The conditional Sandbox write; Sandbox's values and concealed values stay."""
    body = bp.sandbox_body(backported.document, live["definition"], git_document)
    annotations = dict(live.get("annotations") or {})
    annotations[bp.ANN_BACKPORTED] = f"{source.name}@r{flow.live_revision} {_now()}"
    with client(sandbox) as tenant:
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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _push(repo: git.Repo, remote: str, outcome: _Outcome) -> None:
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


def _open_pull(
    github: GitHub,
    env_plan: EnvironmentPlan,
    flow: FlowPlan,
    backported: bp.Backported,
    outcome: _Outcome,
) -> dict[str, Any]:
    title, body = bp.pull_request_text(env_plan, flow, backported, outcome.branch)
    return bp.open_pull(github, title, body, outcome.branch, outcome.base)


def _print_report(env_plan: EnvironmentPlan, outcome: _Outcome, output: str) -> None:
    if output == "markdown":
        emit(render_environment_markdown(env_plan))
    else:
        emit(render_text([env_plan], color=color_enabled()))
    flow = env_plan.flows[0]
    done = (
        "already holds this backport; nothing new was committed"
        if outcome.reused or outcome.commit is None
        else f"committed {outcome.commit[:12]}"
    )
    lines = [
        f"Backport of `{outcome.key}` from {outcome.environment} (revision {flow.live_revision}): "
        f"branch `{outcome.branch}` {done} (from {outcome.base or 'HEAD'}); the work tree stays "
        "where it was.",
        "Hotfix edits carried back:",
        *[f"  - {line}" for line in bp.edit_lines(flow)],
    ]
    if outcome.notes:
        lines += ["For the reviewer:", *[f"  - {note}" for note in outcome.notes]]
    emit("\n".join(lines))


def _print_end(outcome: _Outcome, env_plan: EnvironmentPlan, args: argparse.Namespace) -> None:
    if args.output == "json":
        data = {k: v for k, v in vars(outcome).items()}
        data["plan"] = json.loads(render_json([env_plan]))
        emit(json.dumps(data, indent=2, ensure_ascii=False))
        return
    lines = []
    if outcome.sandbox and outcome.sandbox.get("already"):
        lines.append(f"Sandbox `{outcome.sandbox['environment']}` carries the hotfix already.")
    elif outcome.sandbox:
        lines.append(
            f"Sandbox `{outcome.sandbox['environment']}`: working version updated to revision "
            f"{outcome.sandbox['revision']} (its own values and concealed values kept)."
        )
    if outcome.pushed:
        lines.append(f"Pushed `{outcome.branch}` to {args.remote}.")
    pull = outcome.pull_request
    if pull:
        lines.append(f"Pull request #{pull['number']} {pull['action']}: {pull['url']}")
    emit("\n".join([*lines, "Next steps:", *_next_steps(outcome, args)]))


def _next_steps(outcome: _Outcome, args: argparse.Namespace) -> list[str]:
    steps = []
    if not outcome.pushed:
        steps.append(f"git push {args.remote} {outcome.branch}")
    if not outcome.pull_request:
        steps.append(f"open a pull request from {outcome.branch} into {outcome.base or 'the base'}")
    steps.append("review the pull request (the report above is the drift) and merge it")
    steps.append(
        f"syncer apply --env {outcome.environment} (or the next reconcile): it only refreshes "
        "syncer's annotations there; other environments get the hotfix as a normal update"
    )
    if not outcome.sandbox:
        steps.append(
            "Sandbox does not have the hotfix: make the same edit there before the next export, "
            f"or, before merging, run this backport again with --branch {outcome.branch} --to-sandbox"
        )
    return [f"  {n}. {step}" for n, step in enumerate(steps, 1)]
