"""`syncer report`: the change and drift report a reviewer reads on a pull request.

The report is the plan of every target environment rendered for people. ``--base REF`` adds, per
environment, what changed in Git between REF and the reviewed state (so a PR shows its own change even
when the tenants are already ahead or behind), and makes REF the trusted side: every tenant is called at
the URL, and with the API key variable, that REF's environment files give (without ``--base``, with
``--ref``: the checkout's). A URL the change edits is reported, never called. ``--github-pr N`` posts one comment per environment and
updates it in place on the next run; ``GITHUB_STEP_SUMMARY``, when set, gets the report appended.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from ..github import GitHub, append_step_summary
from ..model import EnvironmentPlan, Role
from ..plan import exit_code
from ..planner import add_base_changes, plan_environments, plan_reviewed
from ..report import (
    render_environment_markdown,
    render_json,
    render_markdown,
    render_text,
    report_marker,
)
from ..testcases import Review
from ..testcases.files import review
from ..testcases.markdown import TESTS_MARKER, review_markdown
from ..testcases.render import review_text
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
    base = Workspace(ws.root, asked.base) if asked.base else None
    trusted = base or (workspace(asked.repo) if asked.ref else None)
    if trusted is not None:
        label = f"`{asked.base}`" if asked.base else "the checkout"
        plans = plan_reviewed(ws, trusted, asked.env_names, asked.flow_keys, trusted_label=label)
    else:
        plans = plan_environments(ws, ws.select(asked.env_names, Role.TARGET), asked.flow_keys)
    tests = None
    if base is not None and asked.base:
        add_base_changes(plans, ws, base)
        tests = review(ws, base, asked.base)
    text = _render(plans, asked.output, tests)
    if asked.out:
        write_output(asked.out, "--out", text)
    if asked.github_pr is not None:
        _post(plans, asked.github_pr, tests)
    elif os.environ.get("GITHUB_STEP_SUMMARY") and asked.output == "markdown":
        append_step_summary(text)
    emit(text)
    return exit_code(plans)


def _render(plans: list[EnvironmentPlan], output: str, tests: Review | None) -> str:
    """The report; with ``--base``, the test cases that changed outcome follow (not in JSON, whose
    shape is the plan schema's: `syncer test --output json` gives the cases)."""
    if output == "json":
        return render_json(plans)
    if output == "text":
        return render_text(plans) + ("\n" + review_text(tests) if tests else "")
    return render_markdown(plans) + ("\n" + review_markdown(tests) if tests else "")


def _post(plans: list[EnvironmentPlan], pr: int, tests: Review | None) -> None:
    hub = GitHub.from_env()
    bodies = [
        (plan.environment, report_marker(plan.environment), render_environment_markdown(plan))
        for plan in plans
    ]
    if tests is not None:
        bodies.append(("test cases", TESTS_MARKER, review_markdown(tests)))
    for what, marker, body in bodies:
        action, comment_id = hub.upsert_comment(pr, marker, body)
        emit(f"{what}: comment {comment_id} {action} on pull request #{pr}")
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            append_step_summary(body)
