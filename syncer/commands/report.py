"""`syncer report`: the change and drift report a reviewer reads on a pull request.

The report is the plan of every target environment rendered for people. ``--base REF`` adds, per
environment, what changed in Git between REF and the reviewed state (so a PR shows its own change even
when the tenants are already ahead or behind), and makes REF the trusted side: every tenant is called at
the URL, and with the API key variable, that REF's environment files give (without ``--base``, with
``--ref``: the checkout's). A URL the change edits is reported, never called. ``--github-pr N`` posts one comment per environment and
updates it in place on the next run; ``--github-status SHA`` sets one commit status per environment on
SHA; ``--output github`` prints annotations for the changed lines and writes the step outputs
(``changes``, ``needs-person``, ``summary``, ``report-path``). ``GITHUB_STEP_SUMMARY``, when set, gets
the Markdown report.

It exits 0 once it has rendered (and posted): a pull-request check fails on errors, not on the news it
carries. ``--detailed-exitcode`` asks for 2 (changes to apply) and 3 (something needs a person).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from ..errors import EXIT_OK
from ..github import GitHub, append_step_summary
from ..github.actions import FlowLocator, write_outputs
from ..github.reports import post_comments, set_statuses
from ..model import EnvironmentPlan, Role
from ..plan import exit_code
from ..reconcile.planner import add_base_changes, plan_environments, plan_reviewed
from ..report import render_json, render_markdown, render_text
from ..report.annotations import plan_annotations, render, step_outputs
from ..testcases import Review
from ..testcases.files import review
from ..testcases.markdown import TESTS_MARKER, review_markdown
from ..testcases.render import review_text
from ..workspace import Workspace
from ._common import emit, output_file, say, workspace, write_output


@dataclass(frozen=True)
class _Asked:
    repo: str
    ref: str | None
    base: str | None
    env_names: list[str]
    flow_keys: list[str]
    github_pr: int | None
    github_status: str | None
    out: str | None
    output: str
    detailed_exitcode: bool


def run(args: argparse.Namespace) -> int:
    return report(
        _Asked(
            args.repo,
            args.ref,
            args.base,
            args.env,
            args.flow,
            args.github_pr,
            args.github_status,
            args.out,
            args.output,
            args.detailed_exitcode,
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
    github = asked.output == "github"
    text = _render(plans, asked.output, ws, tests)
    if asked.out:  # in GitHub, the file is the Markdown a person reads (the log has the rest)
        write_output(asked.out, "--out", _markdown(plans, tests) if github else text)
    posted = []
    if asked.github_pr is not None or asked.github_status:
        with GitHub.from_env() as hub:
            if asked.github_pr is not None:
                extra = [("test cases", TESTS_MARKER, review_markdown(tests))] if tests else []
                posted = post_comments(hub, plans, asked.github_pr, extra=extra)
                for p in posted:
                    emit(
                        f"{p.environment}: comment {p.comment_id} {p.action} on pull request #{asked.github_pr}"
                    )
            if asked.github_status:
                set_statuses(hub, plans, asked.github_status, posted, notify=say)
    elif os.environ.get("GITHUB_STEP_SUMMARY") and asked.output in ("markdown", "github"):
        append_step_summary(_markdown(plans, tests))
    if github:
        write_outputs({**step_outputs(plans), "report-path": asked.out or ""})
    emit(text)
    return exit_code(plans) if asked.detailed_exitcode else EXIT_OK


def _render(plans: list[EnvironmentPlan], output: str, ws: Workspace, tests: Review | None) -> str:
    """The report; with ``--base``, the test cases that changed outcome follow (not in JSON, whose
    shape is the plan schema's: `syncer test --output json` gives the cases)."""
    if output == "json":
        return render_json(plans)
    if output == "text":
        return render_text(plans) + ("\n" + review_text(tests) if tests else "")
    if output == "github":
        lines = render_text(plans).splitlines() + (review_text(tests).splitlines() if tests else [])
        return render(plan_annotations(plans, FlowLocator(ws)), lines, "see the job summary")
    return _markdown(plans, tests)


def _markdown(plans: list[EnvironmentPlan], tests: Review | None) -> str:
    return render_markdown(plans) + ("\n" + review_markdown(tests) if tests else "")
