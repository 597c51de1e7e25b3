"""`syncer export`: Sandbox working versions -> canonical YAML under flows/, optionally committed.

Refuses to overwrite a flow file with uncommitted changes (`--force` overwrites it); `--commit` commits
only the files the export wrote.
"""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..exporter import ExportResult, export
from ..model import Role
from ._common import emit, exactly_one, say, say_warnings, workspace
from ._progress import status


def run(args: argparse.Namespace) -> int:
    return export_flows(
        args.repo, args.env, args.flow, args.branch, args.commit, args.message, args.force
    )


def export_flows(
    repo: str,
    env_names: list[str],
    flow_keys: list[str],
    branch: str | None,
    commit: bool,
    message: str | None,
    force: bool = False,
) -> int:
    if message and not commit:
        raise UsageError("-m/--message needs --commit.")
    ws = workspace(repo)
    envs = ws.select(env_names, Role.SOURCE)
    name = exactly_one(
        [e.name for e in envs], "--env NAME", "export reads one source environment at a time"
    )
    with status(f"exporting from {name}"):
        result = export(
            ws, envs[0], flow_keys, branch=branch, commit=commit, message=message, force=force
        )
    _print(name, result, commit)
    return 0


def _print(env: str, result: ExportResult, commit: bool) -> None:
    for rel in result.written:
        emit(f"wrote {rel}")
    for old, new in result.renamed:
        emit(f"renamed flows/{old} -> flows/{new} (the key changed in {env})")
    emit(f"{len(result.written)} written, {len(result.unchanged)} unchanged")
    say_warnings(result.warnings)
    for key in result.deleted_in_source:
        say(
            f"warning: flows/{key} is in Git but no longer in {env}; it was NOT deleted. "
            "Remove it in a pull request if the deletion is intended."
        )
    if commit:
        where = result.branch or "HEAD"
        done = f"committed {result.commit[:12]} on {where}" if result.commit else None
        emit(done or "nothing changed: no commit made")
