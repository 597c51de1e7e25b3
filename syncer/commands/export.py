"""`syncer export`: Sandbox working versions -> canonical YAML under flows/, optionally committed."""

from __future__ import annotations

import argparse
import os
import sys

from .. import vcs
from ..errors import ConfigError, UsageError
from ..exporter import ExportResult, existing_ids, plan_files
from ..model import Role
from ..workspace import ensure_schemas
from ..yamlio import write_text_atomically
from ._common import client, emit, workspace
from ._progress import status


def run(args: argparse.Namespace) -> int:
    if args.message and not args.commit:
        raise UsageError("-m/--message needs --commit.")
    ws = workspace(args)
    envs = ws.select(args.env, Role.SOURCE)
    if len(envs) != 1:
        raise UsageError("export reads one source environment at a time: pass --env NAME.")
    env = envs[0]
    repo = vcs.require_repo(ws.root) if (args.commit or args.branch) else ws.repo
    known = existing_ids(ws.root)
    with client(env) as tenant:
        summaries = tenant.list_flows()
        wanted = _select(summaries, args.flow)
        ids = [str(s["definition_id"]) for s in wanted]
        # Streamed: each flow is rendered and checked while the next ones are being fetched.
        with status(f"reading {len(ids)} flow(s) from {env.name}"), tenant.iter_flows(ids) as flows:
            ignores = [e.ignore for e in ws.environments.values() if e.ignore]
            workers = os.cpu_count() or 1
            texts, result = plan_files(ws.root, flows, known, workers, ignores)
    live_ids = {str(s["definition_id"]) for s in summaries}
    if not args.flow:
        result.deleted_in_source = sorted(k for i, k in known.items() if i not in live_ids)
    if args.branch and repo is not None:
        if vcs.branch_exists(repo, args.branch):
            vcs.checkout(repo, args.branch)
        else:
            vcs.checkout_new_branch(repo, args.branch)
    for rel in result.written:
        write_text_atomically(ws.root / rel, texts[rel])
    for rel in result.removed_paths:
        (ws.root / rel).unlink(missing_ok=True)
    schema_paths = ensure_schemas(ws.root)
    _print(env.name, result)
    if args.commit and repo is not None:
        _commit(repo, env.name, result, args.message, schema_paths)
    return 0


def _select(summaries: list[dict[str, object]], keys: list[str]) -> list[dict[str, object]]:
    if not keys:
        return summaries
    by_key = {str(s.get("key")): s for s in summaries}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise ConfigError(
            f"the source environment has no flow {', '.join(missing)} (it has: {', '.join(sorted(by_key))})."
        )
    return [by_key[k] for k in keys]


def _print(env: str, result: ExportResult) -> None:
    for rel in result.written:
        emit(f"wrote {rel}")
    for old, new in result.renamed:
        emit(f"renamed flows/{old} -> flows/{new} (the key changed in {env})")
    emit(f"{len(result.written)} written, {len(result.unchanged)} unchanged")
    for key in result.deleted_in_source:
        print(
            f"warning: flows/{key} is in Git but no longer in {env}; it was NOT deleted. "
            "Remove it in a pull request if the deletion is intended.",
            file=sys.stderr,
        )


def _commit(
    repo: object, env: str, result: ExportResult, message: str | None, extra: list[str]
) -> None:
    import git

    assert isinstance(repo, git.Repo)
    if not result.written and not result.removed_paths and not extra:
        emit("nothing changed: no commit made")
        return
    changed = sorted({p.split("/")[1] for p in result.written})
    lines = [
        message or f"Export {len(changed)} flow(s) from {env}",
        "",
        f"Source environment: {env}",
    ]
    lines += [f"- {key}: revision {result.revisions.get(key, '?')}" for key in changed]
    paths = [*result.written, *result.removed_paths, *extra]
    sha = vcs.commit(repo, paths, "\n".join(lines) + "\n")
    emit(
        f"committed {sha[:12]} on {vcs.current_branch(repo) or 'HEAD'}"
        if sha
        else "nothing changed: no commit made"
    )
