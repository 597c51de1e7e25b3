"""`syncer reconcile`: plan and apply every target environment in parallel (CI on merge, schedules).

Honours each environment's `windows` (writes only inside them; plan and report always run) and `verify`
(writes only commits signed by an allowed signer). `--every SECONDS` keeps running as a loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .. import vcs
from ..apply import ApplyOptions, ApplyResult, FlowResult, apply_plan
from ..errors import EXIT_ERROR, SyncError
from ..model import Environment, EnvironmentPlan, Role
from ..planner import plan_environment
from ..reconcile.windows import writes_allowed
from ..workspace import Workspace
from ._common import client, emit, in_parallel, render
from .apply import _actor, print_results


def run(args: argparse.Namespace) -> int:
    runs = 0
    while True:
        code = _once(args)
        runs += 1
        if args.every is None or (args.max_runs is not None and runs >= args.max_runs):
            return code
        time.sleep(max(1.0, args.every))


def _once(args: argparse.Namespace) -> int:
    ws = Workspace(Path(args.repo), args.ref)  # re-read every run: Git may have moved
    envs = ws.select(args.env, Role.TARGET)
    ws.flows  # validate the whole Git state before the first write  # noqa: B018
    actor = _actor()

    def one(env: Environment) -> tuple[EnvironmentPlan, ApplyResult]:
        with client(env) as tenant:
            plan = plan_environment(ws, env, tenant)
            allowed, why = _may_write(ws, env)
            if not allowed:
                result = ApplyResult(env.name, [FlowResult("*", "skipped", f"no writes: {why}")])
                return plan, result
            return plan, apply_plan(plan, env, tenant, ApplyOptions(actor=actor))

    try:
        pairs: list[tuple[EnvironmentPlan, ApplyResult]] = in_parallel(envs, one)
    except SyncError as exc:
        if args.every is None:
            raise
        print(f"error: {exc}", file=sys.stderr)  # a loop survives a bad run and tries again
        return EXIT_ERROR
    plans = [p for p, _ in pairs]
    emit(render(plans, args.output))
    if args.report:
        from .. import report

        Path(args.report).write_text(report.render_markdown(plans), "utf-8")
    if args.open_backport_prs:
        from .backport_prs import open_backport_prs

        open_backport_prs(ws, plans)
    return print_results([r for _, r in pairs], plans)


def _may_write(ws: Workspace, env: Environment) -> tuple[bool, str]:
    allowed, why = writes_allowed(env.windows, datetime.now(UTC))
    if not allowed:
        return False, why
    if env.signed_commits:
        if ws.repo is None:
            return False, "verify.signed_commits needs a Git repository"
        ref = ws.ref or "HEAD"
        signers = ws.root / (env.allowed_signers or ".syncer/allowed_signers")
        ok, message = vcs.verify_signature(ws.repo, ref, signers)
        if not ok:
            return False, f"commit {ref} is not signed by an allowed signer ({message})"
    return True, ""
