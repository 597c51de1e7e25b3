"""`syncer apply`: plan, then create/update flows; or apply exactly a saved plan."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..apply import (
    ApplyOptions,
    ApplyResult,
    actor,
    apply_plan,
    check_saved_plan,
    exit_code,
    load_saved_plan,
    outcome_lines,
)
from ..client import client_for
from ..errors import EXIT_OK, UsageError
from ..model import WRITES, Environment, Role
from ..planner import for_each_environment, plan_environments
from ._common import confirm, emit, render, say, workspace
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
        )
    )


def apply(asked: _Asked) -> int:
    if asked.overwrite_drift and len(asked.flow_keys) != 1:
        raise UsageError(
            "--overwrite-drift needs exactly one --flow KEY: drift is overwritten one flow at a time."
        )
    ws = workspace(asked.repo, asked.ref)
    saved = load_saved_plan(asked.planfile) if asked.planfile else None
    envs = ws.select(asked.env_names or (list(saved) if saved else []), Role.TARGET)
    plans = plan_environments(ws, envs, asked.flow_keys)
    only = check_saved_plan(plans, saved) if saved is not None else None
    overwrite = asked.flow_keys[0] if asked.overwrite_drift else None
    emit(render(plans, asked.output, overwrite))
    writes = sum(1 for p in plans for f in p.flows if f.status in WRITES)
    if writes and not confirm(f"Apply {writes} change(s)?", asked.yes):
        say("nothing applied")
        return EXIT_OK
    by_env = {p.environment: p for p in plans}
    who = actor()
    with bar("applying", writes) as step:

        def one(env: Environment) -> ApplyResult:
            chosen = only.get(env.name) if only is not None else None
            options = ApplyOptions(asked.adopt, overwrite, who, chosen)
            with client_for(env) as tenant:
                return apply_plan(by_env[env.name], env, tenant, options, progress=step)

        results = for_each_environment(envs, one)
    for line in outcome_lines(results):
        say(line)
    return exit_code(results, plans)
