"""`syncer publish`: publish the working version in one target environment, deliberately.

Promotion never publishes (SPEC 1); this command is the separate step. It runs the preflight
checklist first and refuses (exit 3) while an item blocks, unless ``--force``. A drifted or
conflicting flow is refused even with ``--force``: its working version is not what Git reviewed.
The published version's ``notes`` record the Git commit, the actor and the preflight result (counts
and blocking item names, never a value).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from ..client import TenantClient
from ..errors import EXIT_ERROR, EXIT_OK, RefusedError, UsageError
from ..model import Environment, Role, Status
from ..preflight_items import FlowChecklist
from ._common import client, emit, workspace
from .preflight import EnvironmentChecklist, check_environment
from .preflight import render as render_checklist

_NEVER_FORCED = (Status.DRIFT, Status.CONFLICT)


def run(args: argparse.Namespace) -> int:
    if len(dict.fromkeys(args.env)) != 1:
        raise UsageError(
            "publish needs exactly one --env NAME: each environment is published on its own, "
            "deliberately."
        )
    if not args.flow:
        raise UsageError("publish needs at least one --flow KEY: name the flows to publish.")
    ws = workspace(args)
    env = ws.select(args.env, Role.TARGET)[0]
    ws.flows  # validate the whole Git state before any request  # noqa: B018
    checked = check_environment(ws, env, args.flow)
    print(render_checklist([checked], "text"), file=sys.stderr)
    _refuse_unless_ready(checked, force=args.force)
    if not _confirm(args, checked):
        print("nothing published", file=sys.stderr)
        return EXIT_OK
    notes = {f.key: publication_notes(f, ws.git_commit, actor(), args.force) for f in checked.flows}
    with client(env) as tenant:
        published = [_publish(tenant, env, flow, notes[flow.key]) for flow in checked.flows]
    emit(_render(env, published, args.output))
    moved = [p for p in published if p.get("moved")]
    return EXIT_ERROR if moved else EXIT_OK


def actor() -> str:
    """Who publishes: $SYNCER_ACTOR, else $GITHUB_ACTOR, else the OS user."""
    named = os.environ.get("SYNCER_ACTOR") or os.environ.get("GITHUB_ACTOR")
    if named:
        return named
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        return "unknown"


def _refuse_unless_ready(checked: EnvironmentChecklist, *, force: bool) -> None:
    env = checked.environment
    absent = [f.key for f in checked.flows if f.live_revision is None]
    if absent:
        raise RefusedError(
            f"{', '.join(absent)} not in {env}, so there is nothing to publish; promote it first "
            f"with `syncer apply --env {env} --flow KEY`.",
            exit_code=EXIT_ERROR,
        )
    never = [f for f in checked.flows if f.status in _NEVER_FORCED]
    blocked = [f for f in checked.flows if f.blocking()]
    if never or (blocked and not force):
        lines = [
            f"{f.key}: {item.name}: {item.message}"
            for f in (never or blocked)
            for item in f.blocking()
        ]
        how = (
            "a drifted or conflicting working version is never published by syncer, even with "
            "--force: backport or overwrite the hotfix first"
            if never
            else "fix them and run preflight again, or pass --force to publish anyway (the "
            "blocking items are recorded in the version's notes)"
        )
        raise RefusedError(
            f"publish refused in {env}, nothing was published:\n  "
            + "\n  ".join(lines)
            + f"\n{how}."
        )


def publication_notes(flow: FlowChecklist, repository_commit: str, who: str, forced: bool) -> str:
    """A published version's notes: where it came from, who published it, what preflight said."""
    counts = flow.counts()
    blocking = [item.name for item in flow.blocking()]
    lines = [
        "Published with syncer publish.",
        f"git-commit: {flow.applied_commit or repository_commit}",
        f"repository-commit: {repository_commit}",
        f"actor: {who}",
        f"working-revision: {flow.live_revision}",
        "preflight: " + ", ".join(f"{n} {level}" for level, n in counts.items()),
        f"blocking: {'; '.join(blocking) if blocking else 'none'}",
        f"forced: {'yes' if forced and blocking else 'no'}",
    ]
    return "\n".join(lines)


def _confirm(args: argparse.Namespace, checked: EnvironmentChecklist) -> bool:
    if args.yes or not sys.stdin.isatty():
        return True
    names = ", ".join(f"{f.key} (revision {f.live_revision})" for f in checked.flows)
    answer = input(f"Publish {names} in {checked.environment}? [y/N] ").strip().lower()
    return answer in ("y", "yes")


def _publish(
    tenant: TenantClient, env: Environment, flow: FlowChecklist, notes: str
) -> dict[str, Any]:
    # The publish POST is not conditional, so the revision is checked right before it and compared
    # right after it: an edit in between is reported, never silently published as "checked".
    current = tenant.get_flow(flow.definition_id)
    if int(current["revision"]) != flow.live_revision:
        raise RefusedError(
            f"{flow.key} changed in {env.name} since preflight (revision {flow.live_revision} -> "
            f"{current['revision']}); nothing more was published. Run publish again.",
            exit_code=EXIT_ERROR,
        )
    version = tenant.publish(flow.definition_id, notes)
    result = {"key": flow.key, "definition_id": flow.definition_id, **version}
    revision = version.get("revision")
    if revision is not None and int(revision) != flow.live_revision:
        result["moved"] = True
        print(
            f"warning: {flow.key} version {version.get('version')} holds revision {revision}, not "
            f"the checked revision {flow.live_revision}: someone edited it while publishing. "
            "Review that version.",
            file=sys.stderr,
        )
    return result


def _render(env: Environment, published: list[dict[str, Any]], output: str) -> str:
    if output == "json":
        return json.dumps({"environment": env.name, "published": published}, indent=2)
    lines = []
    for item in published:
        line = (
            f"{env.name}: {item['key']} published as version {item.get('version')} "
            f"(release {item.get('release_id')}, revision {item.get('revision', '?')})"
        )
        lines.append(f"- {line}" if output == "markdown" else line)
    return "\n".join(lines)
