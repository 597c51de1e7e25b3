"""`syncer plan`: the three-way plan per target environment. Read-only.

With `--ref` (a pull request's head, say) the tenants are called at the URLs, and with the API key
variables, of the checkout: the trusted side, never the reviewed ref (`planner.plan_reviewed`).

``--output github`` prints GitHub annotations on the lines of the flows concerned (and the plan as text)
and writes the step outputs ``changes``, ``needs-person`` and ``summary``.
"""

from __future__ import annotations

import argparse

from ..github.actions import FlowLocator, write_outputs
from ..model import Role
from ..plan import exit_code
from ..reconcile.planner import plan_environments, plan_reviewed
from ..report import render_text
from ..report.annotations import plan_annotations, step_outputs
from ..report.annotations import render as render_github
from ._common import emit, output_file, render, say_drafts, workspace, write_json


def run(args: argparse.Namespace) -> int:
    return plan(args.repo, args.ref, args.env, args.flow, args.out, args.output)


def plan(
    repo: str,
    ref: str | None,
    env_names: list[str],
    flow_keys: list[str],
    out: str | None,
    output: str,
) -> int:
    if out:
        output_file(out, "--out")  # before any request: a plan is not lost to a bad path
    ws = workspace(repo, ref)
    if ref:
        trusted = workspace(repo)
        plans = plan_reviewed(ws, trusted, env_names, flow_keys, trusted_label="the checkout")
    else:
        plans = plan_environments(ws, ws.select(env_names, Role.TARGET), flow_keys)
    say_drafts(ws, plans)
    if output == "github":
        annotations = plan_annotations(plans, FlowLocator(ws))
        emit(render_github(annotations, render_text(plans).splitlines(), "run `syncer plan`"))
        write_outputs(step_outputs(plans))
    else:
        emit(render(plans, output))
    if out:  # after the plan is printed: a failing write loses nothing a person needs
        write_json(out, [p.to_json() for p in plans])
    return exit_code(plans)
