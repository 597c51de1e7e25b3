"""``syncer test [--flow KEY ...] [CASES ...]``: run care-flow test cases offline. Reads only.

Exit 0 when every case passes, 3 when one fails, 1 when a test file (or a flow) cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import EXIT_ATTENTION, EXIT_ERROR, EXIT_OK, ConfigError
from ..testcases import files, markdown, render, run_suite
from ..testcases.checks import suggest
from ..workspace import Workspace


def run(args: argparse.Namespace) -> int:
    """Run the selected cases; print them in ``args.output``; return the exit code."""
    ws = Workspace(Path(args.repo))
    flows = ws.flows
    for key in args.flow:
        if key not in flows:
            hint = suggest(key, flows) or f"Flows here: {', '.join(sorted(flows)) or 'none'}."
            raise ConfigError(f"no flow `{key}` in flows/. {hint}")
    keys = list(args.flow) or sorted(flows)
    selection = files.select(ws.root, keys, args.cases, args.flow)
    documents = {
        f.flow_key: flows[f.flow_key].document for f in selection.files if f.flow_key in flows
    }
    suite = run_suite(documents, selection.files, selection.titles)
    suite.problems[:0] = selection.problems
    if args.output == "json":
        sys.stdout.write(render.render_json(suite))
    elif args.output == "markdown":
        sys.stdout.write(markdown.render_markdown(suite))
    else:
        sys.stderr.write(render.render_findings(suite))
        sys.stdout.write(render.render_text(suite))
        if not suite.files:
            print(
                "No test cases: add them as flows/<key>/tests/*.yaml (Awell's validation.yaml format)."
            )
    if suite.problems:
        return EXIT_ERROR
    return EXIT_ATTENTION if suite.failed else EXIT_OK
