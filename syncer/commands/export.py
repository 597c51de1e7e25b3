"""`syncer export`: Sandbox working versions -> canonical YAML under flows/, optionally committed.

Refuses to overwrite a flow file with uncommitted changes (`--force` overwrites it); `--commit` commits
only the files the export wrote.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from .. import vcs
from ..errors import UsageError
from ..exporter import ExportResult, export, propose
from ..model import Role
from ._common import emit, exactly_one, say, say_warnings, workspace
from ._progress import status


@dataclass(frozen=True)
class _Asked:
    repo: str
    env_names: list[str]
    flow_keys: list[str]
    branch: str | None
    commit: bool
    message: str | None
    push: bool
    open_pr: bool
    remote: str
    base: str | None
    force: bool = False


def run(args: argparse.Namespace) -> int:
    return export_flows(
        _Asked(
            args.repo,
            args.env,
            args.flow,
            args.branch,
            args.commit,
            args.message,
            args.push,
            args.open_pr,
            args.remote,
            args.base,
            args.force,
        )
    )


def export_flows(asked: _Asked) -> int:
    if asked.message and not asked.commit:
        raise UsageError("-m/--message needs --commit.")
    if (asked.push or asked.open_pr) and not (asked.branch and asked.commit):
        raise UsageError("--push and --open-pr need --branch NAME and --commit.")
    ws = workspace(asked.repo)
    envs = ws.select(asked.env_names, Role.SOURCE)
    name = exactly_one(
        [e.name for e in envs], "--env NAME", "export reads one source environment at a time"
    )
    base = asked.base or (vcs.current_branch(ws.repo) if ws.repo is not None else None)
    if asked.open_pr and not base:
        raise UsageError("--open-pr needs --base BRANCH here (HEAD is not on a branch).")
    with status(f"exporting from {name}"):
        result = export(
            ws,
            envs[0],
            asked.flow_keys,
            branch=asked.branch,
            commit=asked.commit,
            message=asked.message,
            force=asked.force,
        )
    _print(name, result, asked.commit)
    if asked.push or asked.open_pr:
        pull = propose(ws, envs[0], result, base or "", asked.remote, asked.open_pr)
        if result.commit is not None:
            emit(f"pushed {result.branch} to {asked.remote}")
        if pull is not None:
            emit(f"pull request #{pull['number']} {pull['action']}: {pull['url']}")
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
