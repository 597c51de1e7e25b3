"""Helpers shared by the commands: the workspace, clients, output and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ..client import TenantClient, client_for
from ..errors import EXIT_ATTENTION, EXIT_CHANGES, EXIT_OK
from ..model import NEEDS_PERSON, WRITES, Environment, EnvironmentPlan, Role, Status
from ..planner import plan_environment
from ..workspace import Workspace

T = TypeVar("T")


def workspace(args: argparse.Namespace) -> Workspace:
    return Workspace(Path(args.repo), getattr(args, "ref", None))


@contextmanager
def client(env: Environment) -> Iterator[TenantClient]:
    tenant = client_for(env)
    try:
        yield tenant
    finally:
        tenant.close()


def in_parallel(envs: Sequence[Environment], work: Any) -> list[T]:
    """Run ``work(env)`` for every environment at once (threads: the work is network-bound).

    The first error is raised after every environment finished, so one slow tenant never hides
    another's outcome.
    """
    if len(envs) <= 1:
        return [work(env) for env in envs]
    with ThreadPoolExecutor(max_workers=min(8, len(envs))) as pool:
        futures = [pool.submit(work, env) for env in envs]
        results = []
        errors = []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return results


def plan_all(
    args: argparse.Namespace, ws: Workspace, envs: Sequence[Environment] | None = None
) -> list[EnvironmentPlan]:
    envs = envs if envs is not None else ws.select(args.env, Role.TARGET)
    ws.flows  # validate the whole Git state once, before any request  # noqa: B018

    def one(env: Environment) -> EnvironmentPlan:
        with client(env) as tenant:
            return plan_environment(ws, env, tenant, args.flow)

    return in_parallel(envs, one)


def plan_exit_code(plans: Sequence[EnvironmentPlan]) -> int:
    statuses = {flow.status for plan in plans for flow in plan.flows}
    if statuses & NEEDS_PERSON:
        return EXIT_ATTENTION
    if statuses & WRITES:
        return EXIT_CHANGES
    return EXIT_OK


def needs_person(plans: Sequence[EnvironmentPlan]) -> bool:
    return any(f.status in NEEDS_PERSON for p in plans for f in p.flows)


def color_enabled() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render(plans: Sequence[EnvironmentPlan], output: str) -> str:
    from .. import report

    if output == "json":
        return report.render_json(list(plans))
    if output == "markdown":
        return report.render_markdown(list(plans))
    return report.render_text(list(plans), color=color_enabled())


def emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def save_plan(path: str, plans: Sequence[EnvironmentPlan]) -> None:
    data = [p.to_json() for p in plans]
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def counts(plans: Sequence[EnvironmentPlan], status: Status) -> int:
    return sum(1 for p in plans for f in p.flows if f.status is status)
