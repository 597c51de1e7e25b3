"""`syncer reconcile`: plan and apply every target environment in parallel (CI on merge, schedules).

Honours each environment's `windows` (writes only inside them; plan and report always run; exit 2 when
one deferred writes) and `verify` (writes exactly a commit signed by an allowed signer; exit 1 when it
refuses one). Uncommitted changes are refused unless `--allow-dirty`. `--every SECONDS` keeps running
as a loop.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from ..backport.pulls import open_backport_prs
from ..errors import EXIT_ERROR, SyncError, UsageError
from ..model import Role
from ..reconcile import reconcile_once
from ..reconcile.apply import actor, outcome_lines
from ..report import render_markdown
from ._common import emit, output_file, render, say, workspace, write_output


@dataclass(frozen=True)
class _Asked:
    repo: str
    ref: str | None
    env_names: list[str]
    every: float | None
    report: str | None
    open_backport_prs: bool
    max_runs: int | None
    output: str
    allow_dirty: bool


def run(args: argparse.Namespace) -> int:
    asked = _Asked(
        args.repo,
        args.ref,
        args.env,
        args.every,
        args.report,
        args.open_backport_prs,
        args.max_runs,
        args.output,
        args.allow_dirty,
    )
    if asked.every is not None and not asked.every >= 1:  # also NaN
        raise UsageError(
            f"--every {asked.every:g} is not a schedule: give the seconds between runs, at least 1 "
            "(e.g. --every 300), or leave it out to reconcile once."
        )
    if asked.report:
        output_file(asked.report, "--report")
    runs = 0
    while True:
        code = _once(asked)
        runs += 1
        if asked.every is None or (asked.max_runs is not None and runs >= asked.max_runs):
            return code
        time.sleep(asked.every)


def _once(asked: _Asked) -> int:
    ws = workspace(asked.repo, asked.ref)  # read again every run: Git may have moved
    try:
        envs = ws.select(asked.env_names, Role.TARGET)
        done = reconcile_once(ws, envs, actor(), allow_dirty=asked.allow_dirty)
    except SyncError as exc:
        if asked.every is None:
            raise
        say(f"error: {exc}")  # a loop survives a bad run and tries again
        return EXIT_ERROR
    emit(render(done.plans, asked.output))
    if asked.report:
        write_output(asked.report, "--report", render_markdown(done.plans))
    if asked.open_backport_prs:
        open_backport_prs(ws, done.plans, notify=say)
    for line in outcome_lines(done.results):
        say(line)
    return done.exit_code()
