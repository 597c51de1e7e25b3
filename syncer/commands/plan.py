"""`syncer plan`: the three-way plan per target environment. Read-only.

With `--ref` (a pull request's head, say) the tenants are called at the URLs, and with the API key
variables, of the checkout: the trusted side, never the reviewed ref (`planner.plan_reviewed`).
"""

from __future__ import annotations

import argparse

from ..model import Role
from ..plan import exit_code
from ..planner import plan_environments, plan_reviewed
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
    emit(render(plans, output))
    if out:
        write_json(out, [p.to_json() for p in plans])
    return exit_code(plans)
