"""`reconcile --open-backport-prs`: one standing branch (``backport/<env>/<key>``) and at most one open
pull request per drifted or conflicting flow and environment. `syncer backport` is the one-off version.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import backport as bp
from .. import vcs
from ..errors import GitError, SyncError
from ..github import GitHub
from ..model import EnvironmentPlan, FlowPlan
from ..workspace import Workspace

if TYPE_CHECKING:
    import git


def open_backport_prs(
    ws: Workspace, plans: Sequence[EnvironmentPlan], remote: str = "origin"
) -> list[dict[str, Any]]:
    """For `reconcile --open-backport-prs`: one branch (``backport/<env>/<key>``) and at most one
    open pull request per drifted or conflicting flow and environment; when the drift grows, the
    branch gets a commit on top and the pull request a new body. A failure is a warning on stderr,
    never an exception, so that a scheduled loop keeps running; the work tree ends where it began."""
    todo = [(p, f) for p in plans for f in p.flows if f.status in bp.BACKPORTABLE and f.live]
    if not todo:
        return []
    try:
        repo = vcs.require_repo(ws.root)
        vcs.require_clean(repo, "reconcile --open-backport-prs")
        base = vcs.current_branch(repo)
        if base is None:
            raise GitError("HEAD is detached; check out the base branch so pull requests have one.")
        github = GitHub.from_env()
    except SyncError as exc:
        _warn(f"no backport pull request was opened: {exc}")
        return []
    done = []
    with github:
        for env_plan, flow in todo:
            try:
                done.append(_backport_pull(ws, repo, github, env_plan, flow, base, remote))
            except SyncError as exc:
                _warn(f"backport of {flow.key} from {env_plan.environment} failed: {exc}")
    return done


def _backport_pull(
    ws: Workspace,
    repo: git.Repo,
    github: GitHub,
    env_plan: EnvironmentPlan,
    flow: FlowPlan,
    base: str,
    remote: str,
) -> dict[str, Any]:
    assert flow.live is not None
    env = ws.environment(env_plan.environment)
    branch, sha = bp.stable_branch(env.name, flow.key), None
    by_hand = bp.default_branch(env.name, flow.key, flow.live_revision)
    found = github.find_pull(by_hand, base)  # `backport --open-pr` proposed this revision already
    if found is not None:
        branch = by_hand
        pull = {"number": found.get("number"), "url": found.get("html_url"), "action": "unchanged"}
    else:
        backported = bp.backport_document(
            flow.live, ws.flows[flow.key].document, env.name, env.ignore
        )
        tracking = f"refs/remotes/{remote}/{branch}"
        on_remote = vcs.ref_exists(repo, tracking)
        start = tracking if on_remote else (ws.ref or "HEAD")
        message = bp.commit_message(flow, env.name, backported)
        rel = bp.flow_path(flow.key)
        sha = vcs.commit_on_branch(repo, ws.root, branch, start, rel, backported.text, message)
        if sha is not None or not on_remote:
            vcs.push(repo, remote, branch)
        single = EnvironmentPlan(env.name, env_plan.git_commit, [flow])
        title, body = bp.pull_request_text(single, flow, backported, branch)
        pull = bp.open_pull(github, title, body, branch, base)
    new = f", new commit {sha[:12]}" if sha else ""
    print(
        f"{env.name}: {flow.key}: backport pull request #{pull['number']} {pull['action']} "
        f"(branch {branch}{new})",
        file=sys.stderr,
    )
    return {"environment": env.name, "key": flow.key, "branch": branch, "commit": sha, **pull}


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
