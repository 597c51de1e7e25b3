"""`syncer plan`: the three-way plan per target environment. Read-only."""

from __future__ import annotations

import argparse

from ._common import emit, plan_all, plan_exit_code, render, save_plan, workspace


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    plans = plan_all(args, ws)
    if args.out:
        save_plan(args.out, plans)
    emit(render(plans, args.output))
    return plan_exit_code(plans)
