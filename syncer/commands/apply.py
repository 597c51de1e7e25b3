"""`syncer apply`: plan, then create/update flows; or apply exactly a saved plan.

Writes exactly a commit (uncommitted changes only with `--allow-dirty`, recorded), never a commit that
`verify` refuses, and nothing while a window holds writes unless `--override-window REASON`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..client import client_for
from ..errors import EXIT_OK, UsageError
from ..model import WRITES, Environment, EnvironmentPlan, HoldKind, Role
from ..reconcile import plan_guarded
from ..reconcile.apply import (
    ApplyOptions,
    ApplyResult,
    actor,
    apply_plan,
    check_saved_plan,
    exit_code,
    load_saved_plan,
    outcome_lines,
)
from ..reconcile.planner import for_each_environment
from ._common import confirm, emit, render, say, say_drafts, workspace
from ._progress import bar


@dataclass(frozen=True)
class _Asked:
    repo: str
    ref: str | None
    env_names: list[str]
    flow_keys: list[str]
    adopt: bool
    overwrite_drift: bool
    yes: bool
    planfile: str | None
    output: str
    allow_dirty: bool
    override_window: str | None


def run(args: argparse.Namespace) -> int:
    return apply(
        _Asked(
            args.repo,
            args.ref,
            args.env,
            args.flow,
            args.adopt,
            args.overwrite_drift,
            args.yes,
            args.planfile,
            args.output,
            args.allow_dirty,
            args.override_window,
        )
    )


def apply(asked: _Asked) -> int:
    if asked.overwrite_drift and len(asked.flow_keys) != 1:
        raise UsageError(
            "--overwrite-drift needs exactly one --flow KEY: drift is overwritten one flow at a time."
        )
    if asked.override_window is not None and not asked.override_window.strip():
        raise UsageError("--override-window needs a REASON: it is recorded with your name.")
    ws = workspace(asked.repo, asked.ref)
    saved = load_saved_plan(asked.planfile) if asked.planfile else None
    envs = ws.select(asked.env_names or (list(saved) if saved else []), Role.TARGET)
    guarded = plan_guarded(
        ws,
        envs,
        asked.flow_keys,
        allow_dirty=asked.allow_dirty,
        override_window=asked.override_window is not None,
    )
    plans = guarded.plans
    trusted = [p for p in plans if p.hold is None or p.hold.kind is not HoldKind.VERIFY]
    only = check_saved_plan(trusted, saved) if saved is not None else None
    say_drafts(ws, plans)
    overwrite = asked.flow_keys[0] if asked.overwrite_drift else None
    emit(render(plans, asked.output, overwrite))
    _say_holds(plans)
    for name, hold in guarded.overridden.items():
        say(f"{name}: --override-window lifts {hold.window}; each write records who and why")
    writable = guarded.writable()
    writes = sum(1 for _e, p in writable for f in p.flows if f.status in WRITES)
    if writes and not confirm(f"Apply {writes} change(s)?", asked.yes):
        say("nothing applied")
        return EXIT_OK
    who = actor()
    by_env = {env.name: plan for env, plan in writable}
    with bar("applying", writes) as step:

        def one(env: Environment) -> ApplyResult:
            chosen = only.get(env.name) if only is not None else None
            lifted = (asked.override_window or "") if env.name in guarded.overridden else ""
            options = ApplyOptions(asked.adopt, overwrite, who, chosen, lifted)
            with client_for(env) as tenant:
                return apply_plan(by_env[env.name], env, tenant, options, progress=step)

        results = for_each_environment([env for env, _plan in writable], one)
    for line in outcome_lines(results):
        say(line)
    return exit_code(results, plans)


def _say_holds(plans: list[EnvironmentPlan]) -> None:
    for plan in plans:
        if plan.hold is not None:
            say(f"{plan.environment}: nothing written — {plan.hold.message}")
