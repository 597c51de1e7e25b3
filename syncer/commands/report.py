"""`syncer report`: the change and drift report a reviewer reads on a pull request.

The report is the plan of every target environment rendered for people. ``--base REF`` adds, per
environment, what changed in Git between REF and the reviewed state (so a PR shows its own change even
when the tenants are already ahead or behind). ``--github-pr N`` posts one comment per environment and
updates it in place on the next run; ``GITHUB_STEP_SUMMARY``, when set, gets the report appended.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from ..github import GitHub, append_step_summary
from ..model import EnvironmentPlan, Role
from ..plan import exit_code
from ..planner import add_base_changes, plan_environments
from ..report import (
    render_environment_markdown,
    render_json,
    render_markdown,
    render_text,
    report_marker,
)
from ..workspace import Workspace
from ._common import emit, output_file, workspace, write_output


@dataclass(frozen=True)
class _Asked:
    repo: str
    ref: str | None
    base: str | None
    env_names: list[str]
    flow_keys: list[str]
    github_pr: int | None
    out: str | None
    output: str


def run(args: argparse.Namespace) -> int:
    return report(
        _Asked(
            args.repo,
            args.ref,
            args.base,
            args.env,
            args.flow,
            args.github_pr,
            args.out,
            args.output,
        )
    )


def report(asked: _Asked) -> int:
    if asked.out:
        output_file(asked.out, "--out")
    ws = workspace(asked.repo, asked.ref)
    plans = plan_environments(ws, ws.select(asked.env_names, Role.TARGET), asked.flow_keys)
    if asked.base:
        add_base_changes(plans, ws, Workspace(ws.root, asked.base))
    text = _render(plans, asked.output)
    if asked.out:
        write_output(asked.out, "--out", text)
    if asked.github_pr is not None:
        _post(plans, asked.github_pr)
    elif os.environ.get("GITHUB_STEP_SUMMARY") and asked.output == "markdown":
        append_step_summary(text)
    emit(text)
    return exit_code(plans)


def _render(plans: list[EnvironmentPlan], output: str) -> str:
    if output == "json":
        return render_json(plans)
    if output == "text":
        return render_text(plans)
    return render_markdown(plans)


def _post(plans: list[EnvironmentPlan], pr: int) -> None:
    hub = GitHub.from_env()
    for plan in plans:
        body = render_environment_markdown(plan)
        action, comment_id = hub.upsert_comment(pr, report_marker(plan.environment), body)
        emit(f"{plan.environment}: comment {comment_id} {action} on pull request #{pr}")
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            append_step_summary(body)
