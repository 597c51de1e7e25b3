"""`syncer bootstrap --from PROD --to SANDBOX`: the one-time reverse copy (``syncer.backport.bootstrap``
holds the guards and the copy)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..backport.bootstrap import bootstrap
from ._common import emit, workspace


def run(args: argparse.Namespace) -> int:
    return copy_back(args.repo, args.source, args.target, args.flow, args.force, args.output)


def copy_back(
    repo: str, source: str, target: str, flow_keys: list[str], force: bool, output: str
) -> int:
    results = bootstrap(workspace(repo), source, target, flow_keys, force)
    if not results:
        emit(f"nothing to bootstrap: every flow of {source} already exists in {target}.")
    elif output == "json":
        emit(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        emit("\n".join(_describe(r, target) for r in results))
    return 0


def _describe(result: dict[str, Any], target: str) -> str:
    kept = "kept as they were" if result["action"] == "overwritten" else "left blank"
    lines = [
        f"{result['key']}: {result['action']} in {target} (revision {result['revision']}) from "
        f"{result['from']} revision {result['from_revision']}; recorded as {result['recorded']}."
    ]
    if result["concealed_not_copied"]:
        names = ", ".join(result["concealed_not_copied"])
        lines.append(f"  concealed values not copied ({kept}): {names}")
    lines.append(
        f"  next: syncer export --env {target} --flow {result['key']} --commit, then a pull request"
    )
    return "\n".join(lines)
