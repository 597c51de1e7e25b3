"""`syncer serve`: the reconciler as a service (docs/operations.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..serve import serve, settings_for
from .apply import _actor


def run(args: argparse.Namespace) -> int:
    settings = settings_for(
        Path(args.repo),
        tuple(args.env),
        args.ref,
        args.every,
        args.jitter,
        Path(args.db) if args.db else None,
        _actor(),
        fetch=args.fetch,
        branch=args.branch,
        host=args.host,
        port=args.port,
    )
    return serve(settings)
