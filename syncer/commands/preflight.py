"""`syncer preflight`: the go-live checklist per flow and target environment. Read-only.

The reading and the checks are ``syncer.golive``; the rendering is ``syncer.report.checklist``.
"""

from __future__ import annotations

import argparse

from ..errors import EXIT_ATTENTION, EXIT_OK
from ..golive.gather import environment_checklist
from ..model import Role
from ..reconcile.planner import for_each_environment
from ..report.checklist import render_checklists
from ._common import color_enabled, emit, workspace


def run(args: argparse.Namespace) -> int:
    return preflight(args.repo, args.env, args.flow, args.output)


def preflight(repo: str, env_names: list[str], flow_keys: list[str], output: str) -> int:
    ws = workspace(repo)
    envs = ws.select(env_names, Role.TARGET)
    ws.flows  # validate the whole Git state once, before any request  # noqa: B018
    results = for_each_environment(envs, lambda env: environment_checklist(ws, env, flow_keys))
    emit(render_checklists(results, output, color=color_enabled()))
    return EXIT_ATTENTION if any(r.blocked() for r in results) else EXIT_OK
