"""`syncer backport`: carry a Production hotfix back into Git on a branch, optionally into Sandbox,
push it and open a pull request (the library: ``syncer.backport.hotfix``; docs/hotfixes.md).
"""

from __future__ import annotations

import argparse
import json

from ..backport import edit_lines
from ..backport.hotfix import Outcome, Request, backport_hotfix
from ..model import EnvironmentPlan
from ..report import render_environment_markdown, render_json, render_text
from ._common import color_enabled, emit, exactly_one, workspace


def run(args: argparse.Namespace) -> int:
    why = "backport carries one flow from one environment"
    request = Request(
        environment=exactly_one(args.env, "--env ENV (the environment that holds the hotfix)", why),
        key=exactly_one(args.flow, "--flow KEY", why),
        branch=args.branch,
        base=args.base,
        to_sandbox=args.to_sandbox,
        push=args.push,
        open_pr=args.open_pr,
        remote=args.remote,
    )
    return backport(args.repo, request, args.output)


def backport(repo: str, request: Request, output: str) -> int:
    def committed(env_plan: EnvironmentPlan, outcome: Outcome) -> None:
        if output != "json":
            _print_report(env_plan, outcome, output)

    outcome, env_plan = backport_hotfix(workspace(repo), request, committed)
    if not outcome.carried:
        emit(
            f"{request.key} in {request.environment} is {outcome.status}: nothing to backport (only "
            "drift or a conflict is carried back). No branch was made."
        )
        return 0
    _print_end(outcome, env_plan, output, request.remote)
    return 0


def _print_report(env_plan: EnvironmentPlan, outcome: Outcome, output: str) -> None:
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
        *[f"  - {line}" for line in edit_lines(flow)],
    ]
    if outcome.notes:
        lines += ["For the reviewer:", *[f"  - {note}" for note in outcome.notes]]
    emit("\n".join(lines))


def _print_end(outcome: Outcome, env_plan: EnvironmentPlan, output: str, remote: str) -> None:
    if output == "json":
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
        lines.append(f"Pushed `{outcome.branch}` to {remote}.")
    pull = outcome.pull_request
    if pull:
        lines.append(f"Pull request #{pull['number']} {pull['action']}: {pull['url']}")
    emit("\n".join([*lines, "Next steps:", *_next_steps(outcome, remote)]))


def _next_steps(outcome: Outcome, remote: str) -> list[str]:
    steps = []
    if not outcome.pushed:
        steps.append(f"git push {remote} {outcome.branch}")
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
