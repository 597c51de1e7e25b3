"""`syncer ids`: the identifiers integrations need, per environment and flow. Read-only
(the manifest: ``syncer.golive.ids``; its renderings: ``syncer.report.ids``)."""

from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..golive.ids import collect
from ..model import Role
from ..reconcile.planner import for_each_environment
from ..report.ids import render_ids
from ._common import emit, workspace


def run(args: argparse.Namespace) -> int:
    return ids(args.repo, args.env, args.flow, args.output)


def ids(repo: str, env_names: list[str], flow_keys: list[str], output: str) -> int:
    ws = workspace(repo)
    if env_names:  # named environments may be of any role: Sandbox integrations need ids too
        envs = [ws.environment(name) for name in dict.fromkeys(env_names)]
    else:
        envs = ws.select([], Role.TARGET)
    ws.flows  # validate the whole Git state once, before any request  # noqa: B018
    found = for_each_environment(envs, lambda env: (env.name, collect(ws, env, flow_keys)))
    emit(render_ids(dict(found), output))
    return EXIT_OK
