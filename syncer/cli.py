"""The command line: argv is parsed once (``commands/_arguments.py``); each command lives in
``syncer/commands/<verb>.py``.

``COMMANDS`` is the table of every command and the ``run(args) -> int`` that performs it; each ``run``
unpacks its arguments once and calls the library with plain values. ``main`` is the one top-level error
handler: a ``SyncError`` prints its message and returns its exit code (1, or 3 for a refusal), Ctrl-C
returns 130, anything else is a bug and prints a traceback with a hint (exit 4).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import traceback
from collections.abc import Callable, Sequence

from .commands import (
    apply,
    backport,
    bootstrap,
    demo,
    export,
    export_awell,
    ids,
    import_awell,
    plan,
    preflight,
    publish,
    reconcile,
    report,
    serve,
    tenant,
    test,
    validate,
)
from .commands._arguments import build_parser
from .errors import EXIT_BUG, EXIT_INTERRUPTED, SyncError, terminal_lines
from .report import logs

__all__ = ["COMMANDS", "build_parser", "entrypoint", "main"]


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": validate.run,
    "export": export.run,
    "plan": plan.run,
    "apply": apply.run,
    "reconcile": reconcile.run,
    "report": report.run,
    "backport": backport.run,
    "preflight": preflight.run,
    "publish": publish.run,
    "ids": ids.run,
    "bootstrap": bootstrap.run,
    "test": test.run,
    "import-awell": import_awell.run,
    "export-awell": export_awell.run,
    "tenant": tenant.run,
    "serve": serve.run,
    "demo": demo.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code of SPEC 7."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a usage error; the spec says 1
        code = exc.code if isinstance(exc.code, int) else 1
        return 1 if code == 2 else code
    try:
        logs.configure(args.log_format, verbose=args.command == "serve")
        with logs.run_context(secrets.token_hex(6)):  # every event of this command carries it
            return COMMANDS[args.command](args)
    except SyncError as exc:  # its text may quote a file's values: no terminal control gets through
        print(f"error: {terminal_lines(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        print(
            "\nThis is a bug in syncer, not in your input. Please file an issue with the traceback above.",
            file=sys.stderr,
        )
        return EXIT_BUG


def entrypoint() -> None:
    sys.exit(main())
