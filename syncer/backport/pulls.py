"""Backport pull requests: their text, opening or updating one, and the loop of
``reconcile --open-backport-prs`` (one standing branch ``backport/<env>/<key>`` and at most one open pull
request per drifted or conflicting flow and environment). ``hotfix`` is the one-off ``syncer backport``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import backport as bp
from .. import vcs
from ..errors import GitError, SyncError
from ..github import GitHub
from ..model import EnvironmentPlan, FlowPlan, Status
from ..report import GITHUB_LIMIT, render_environment_markdown
from ..report.safe_text import code_span
from ..workspace import Workspace

if TYPE_CHECKING:
    import git


Notify = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def open_backport_prs(
    ws: Workspace,
    plans: Sequence[EnvironmentPlan],
    remote: str = "origin",
    notify: Notify = _stderr,
) -> list[dict[str, Any]]:
    """For `reconcile --open-backport-prs`: one branch (``backport/<env>/<key>``) and at most one
    open pull request per drifted or conflicting flow and environment; when the drift grows, the
    branch gets a commit on top and the pull request a new body. A failure is a warning on stderr,
    never an exception, so that a scheduled loop keeps running; the work tree ends where it began.
    Each outcome and warning is passed to ``notify`` as one line."""
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
        notify(f"warning: no backport pull request was opened: {exc}")
        return []
    done = []
    with github:
        for env_plan, flow in todo:
            try:
                done.append(_backport_pull(ws, repo, github, env_plan, flow, base, remote))
            except SyncError as exc:
                notify(f"warning: backport of {flow.key} from {env_plan.environment} failed: {exc}")
                continue
            pull = done[-1]
            new = f", new commit {pull['commit'][:12]}" if pull["commit"] else ""
            notify(
                f"{pull['environment']}: {pull['key']}: backport pull request #{pull['number']} "
                f"{pull['action']} (branch {pull['branch']}{new})"
            )
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
        title, body = pull_request_text(single, flow, backported, branch)
        pull = open_pull(github, title, body, branch, base)
    return {"environment": env.name, "key": flow.key, "branch": branch, "commit": sha, **pull}


def pull_request_text(
    plan: EnvironmentPlan, flow: FlowPlan, backported: bp.Backported, branch: str
) -> tuple[str, str]:
    """Title and body of a backport pull request: what it carries, then the drift report."""
    environment = plan.environment
    title = f"Backport hotfix of {flow.key} from {environment} (revision {flow.live_revision})"
    lines = [
        f"This pull request carries a hotfix made in {code_span(environment)} back into Git: "
        f"{code_span(bp.flow_path(flow.key))} on {code_span(branch)} holds its working version "
        f"(revision {flow.live_revision}).",
        "",
        "Constant and extension-setting values, concealed values and paths the environment ignores "
        "keep Git's content.",
    ]
    if flow.status is Status.CONFLICT:
        lines += [
            "",
            "**Conflict:** Git changed this flow too since the last apply. Merging replaces Git's "
            "side (listed below) with Production's version; bring back what should stay first.",
        ]
    if backported.notes:
        lines += ["", "For the reviewer:"] + [f"- {_md_note(n)}" for n in backported.notes]
    lines += [
        "",
        f"After merging, `syncer apply` (or the next reconcile) only refreshes syncer's annotations "
        f"in {code_span(environment)}; other environments receive the hotfix as a normal update.",
        "",
    ]
    intro = "\n".join(lines)
    report = render_environment_markdown(plan, limit=GITHUB_LIMIT - len(intro) - 200)
    return title, intro + "\n" + report


def _md_note(note: str) -> str:
    """Notes name refs in backticks already; everything else in them is ours."""
    return note.replace("<", "&lt;").replace(">", "&gt;")


def open_pull(github: GitHub, title: str, body: str, branch: str, base: str) -> dict[str, Any]:
    """Find the open pull request from ``branch`` and bring it up to date, or open one."""
    existing = github.find_pull(branch, base)
    if existing is None:
        created = github.create_pull(title, branch, base, body)
        return {"number": created.get("number"), "url": created.get("html_url"), "action": "opened"}
    action = "unchanged"
    if existing.get("body") != body or existing.get("title") != title:
        github.update_pull(int(existing["number"]), title=title, body=body)
        action = "updated"
    return {"number": existing.get("number"), "url": existing.get("html_url"), "action": action}
