"""`syncer report`: the change and drift report a reviewer reads on a pull request.

The report is the plan of every target environment rendered for people. ``--base REF`` adds, per
environment, what changed in Git between REF and the reviewed state (so a PR shows its own change even
when the tenants are already ahead or behind). ``--github-pr N`` posts one comment per environment and
updates it in place on the next run; ``GITHUB_STEP_SUMMARY``, when set, gets the report appended.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import report
from ..model import Change, EnvironmentPlan, Role
from ..plan import desired_for, diff
from ..workspace import Workspace
from ._common import emit, plan_all, plan_exit_code, workspace


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    envs = ws.select(args.env, Role.TARGET)
    plans = plan_all(args, ws, envs)
    if args.base:
        _add_base_changes(ws, args.base, plans)
    text = _render(plans, args.output)
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    if args.github_pr is not None:
        _post(plans, args.github_pr)
    elif os.environ.get("GITHUB_STEP_SUMMARY") and args.output == "markdown":
        from ..github import append_step_summary

        append_step_summary(text)
    emit(text)
    return plan_exit_code(plans)


def _render(plans: list[EnvironmentPlan], output: str) -> str:
    if output == "json":
        return report.render_json(plans)
    if output == "text":
        return report.render_text(plans)
    return report.render_markdown(plans)


def _add_base_changes(ws: Workspace, base: str, plans: list[EnvironmentPlan]) -> None:
    """Record, as ``git_side``, what Git changed since ``base`` for each flow of each plan."""
    base_ws = Workspace(ws.root, base)
    try:
        before = base_ws.flows
    except Exception:  # an invalid base must not hide the report of the reviewed state
        before = {}
    for plan in plans:
        env = ws.environment(plan.environment)
        for flow in plan.flows:
            old = before.get(flow.key)
            if flow.desired is None or flow.git_side:
                continue
            if old is None:
                flow.git_side = [
                    Change("flow", "added", description=f"flow {flow.title} added in this change")
                ]
            else:
                flow.git_side = diff.diff(desired_for(old.document, env), flow.desired, env.ignore)


def _post(plans: list[EnvironmentPlan], pr: int) -> None:
    from ..github import GitHub, append_step_summary

    hub = GitHub.from_env()
    for plan in plans:
        body = report.render_environment_markdown(plan)
        action, comment_id = hub.upsert_comment(pr, report.report_marker(plan.environment), body)
        emit(f"{plan.environment}: comment {comment_id} {action} on pull request #{pr}")
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            append_step_summary(body)
