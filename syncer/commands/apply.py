"""`syncer apply`: plan, then create/update flows; or apply exactly a saved plan."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..apply import ApplyOptions, ApplyResult, apply_plan
from ..errors import EXIT_ATTENTION, EXIT_ERROR, EXIT_OK, RefusedError, UsageError
from ..model import NEEDS_PERSON, WRITES, EnvironmentPlan, Role, Status
from ._common import client, emit, in_parallel, plan_all, render, workspace
from ._progress import bar

WRITTEN = ("created", "updated", "refreshed")


def run(args: argparse.Namespace) -> int:
    if args.overwrite_drift and len(args.flow) != 1:
        raise UsageError(
            "--overwrite-drift needs exactly one --flow KEY: drift is overwritten one flow at a time."
        )
    ws = workspace(args)
    saved = _load_saved(args.planfile) if args.planfile else None
    envs = ws.select(args.env or (list(saved) if saved else []), Role.TARGET)
    plans = plan_all(args, ws, envs)
    only = _check_saved(plans, saved) if saved is not None else None
    emit(render(plans, args.output))
    if not _confirm(args, plans):
        print("nothing applied", file=sys.stderr)
        return EXIT_OK
    options = ApplyOptions(
        adopt=args.adopt,
        overwrite=args.flow[0] if args.overwrite_drift else None,
        actor=_actor(),
    )
    by_env = {p.environment: p for p in plans}

    total = sum(1 for p in plans for f in p.flows if f.status in WRITES)

    with bar("applying", total) as step:

        def one(env: Any) -> ApplyResult:
            with client(env) as tenant:
                env_only = only.get(env.name) if only is not None else None
                opts = ApplyOptions(options.adopt, options.overwrite, options.actor, env_only)
                return apply_plan(by_env[env.name], env, tenant, opts, progress=step)

        results: list[ApplyResult] = in_parallel(envs, one)
    return print_results(results, plans)


def print_results(results: list[ApplyResult], plans: list[EnvironmentPlan]) -> int:
    failed = False
    for result in results:
        for item in result.results:
            line = f"{result.environment}: {item.key}: {item.action}"
            if item.detail:
                line += f" — {item.detail}"
            print(line, file=sys.stderr)
            failed = failed or item.action in ("failed", "stale")
        print(f"{result.environment}: {result.writes()} write(s)", file=sys.stderr)
    if failed:
        return EXIT_ERROR
    written = {(r.environment, i.key) for r in results for i in r.results if i.action in WRITTEN}
    waiting = [
        f
        for p in plans
        for f in p.flows
        if f.status in NEEDS_PERSON and (p.environment, f.key) not in written
    ]
    refused = any(i.action == "refused" for r in results for i in r.results)
    return EXIT_ATTENTION if waiting or refused else EXIT_OK


def _actor() -> str:
    import getpass
    import os

    return os.environ.get("SYNCER_ACTOR") or os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def _confirm(args: argparse.Namespace, plans: list[EnvironmentPlan]) -> bool:
    writes = sum(1 for p in plans for f in p.flows if f.status in WRITES)
    if args.yes or writes == 0 or not sys.stdin.isatty():
        return True
    answer = input(f"Apply {writes} change(s)? [y/N] ").strip().lower()
    return answer in ("y", "yes")


def _load_saved(path: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read the saved plan {path}: {exc}. Save one with `syncer plan --out FILE`."
        ) from None
    items = data if isinstance(data, list) else [data]
    try:
        return {str(p["environment"]): {str(f["key"]): f for f in p["flows"]} for p in items}
    except (KeyError, TypeError):
        raise UsageError(f"{path} is not a plan saved by `syncer plan --out`.") from None


def _check_saved(
    plans: list[EnvironmentPlan], saved: dict[str, dict[str, Any]]
) -> dict[str, frozenset[str]]:
    """A saved plan applies exactly itself: refuse when a flow moved in the tenant or in Git since."""
    only: dict[str, frozenset[str]] = {}
    stale: list[str] = []
    for plan in plans:
        entries = saved.get(plan.environment, {})
        fresh = {f.key: f for f in plan.flows}
        chosen = set()
        for key, entry in entries.items():
            if entry.get("status") not in (Status.CREATE.value, Status.UPDATE.value):
                continue
            now = fresh.get(key)
            if now is None or now.status.value != entry["status"]:
                stale.append(
                    f"{plan.environment}/{key}: was {entry['status']}, now {now.status.value if now else 'gone'}"
                )
            elif now.live_revision != entry.get("live_revision"):
                stale.append(
                    f"{plan.environment}/{key}: live revision moved from {entry.get('live_revision')} to {now.live_revision}"
                )
            elif now.desired_hash != entry.get("desired_hash"):
                stale.append(
                    f"{plan.environment}/{key}: the flow changed in Git since the plan was saved"
                )
            else:
                chosen.add(key)
        only[plan.environment] = frozenset(chosen)
    if stale:
        raise RefusedError(
            "the saved plan is stale, nothing was applied:\n  "
            + "\n  ".join(stale)
            + "\nRun `syncer plan --out FILE` again and review it.",
            exit_code=EXIT_ERROR,
        )
    return only
