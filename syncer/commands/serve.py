"""`syncer serve`: the reconciler as a service (docs/operations.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..reconcile.apply import actor


def run(args: argparse.Namespace) -> int:
    from ..serve import serve, settings_for  # the web stack loads only for this command

    settings = settings_for(
        Path(args.repo),
        tuple(args.env),
        args.ref,
        args.every,
        args.jitter,
        Path(args.db) if args.db else None,
        actor(),
        fetch=args.fetch,
        branch=args.branch,
        host=args.host,
        port=args.port,
        keep_days=args.keep_days,
    )
    return serve(settings)
