"""`syncer publish`: publish the working version in one target environment, deliberately.

Promotion never publishes (SPEC 1); this command is the separate step. It runs the preflight checklist
first and refuses (exit 3) while an item blocks, unless ``--force``; a drifted or conflicting flow is
refused even with ``--force`` (the rules: ``syncer.golive.publish``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import EXIT_ERROR, EXIT_OK, UsageError
from ..golive.gather import environment_checklist
from ..golive.publish import publish_checked, refuse_unless_ready
from ..model import Role
from ..reconcile.apply import actor
from ..report.checklist import render_checklists
from ._common import confirm, emit, exactly_one, say, workspace


def run(args: argparse.Namespace) -> int:
    env_name = exactly_one(
        args.env, "--env NAME", "publish works in one environment at a time, deliberately"
    )
    return publish(args.repo, env_name, args.flow, args.yes, args.force, args.output)


def publish(
    repo: str, env_name: str, flow_keys: list[str], yes: bool, force: bool, output: str
) -> int:
    if not flow_keys:
        raise UsageError("publish needs at least one --flow KEY: name the flows to publish.")
    ws = workspace(repo)
    env = ws.select([env_name], Role.TARGET)[0]
    ws.flows  # validate the whole Git state before any request  # noqa: B018
    checked = environment_checklist(ws, env, flow_keys)
    say(render_checklists([checked], "text"))
    refuse_unless_ready(checked, force=force)
    names = ", ".join(f"{f.key} (revision {f.live_revision})" for f in checked.flows)
    if not confirm(f"Publish {names} in {env.name}?", yes):
        say("nothing published")
        return EXIT_OK
    published = publish_checked(env, checked, ws.git_commit, actor(), force)
    for item in published:
        if item.get("moved"):
            say(
                f"warning: {item['key']} version {item.get('version')} holds revision "
                f"{item.get('revision')}, not the checked revision {item['checked_revision']}: "
                "someone edited it while publishing. Review that version."
            )
    emit(_render(env.name, published, output))
    return EXIT_ERROR if any(p.get("moved") for p in published) else EXIT_OK


def _render(env: str, published: list[dict[str, Any]], output: str) -> str:
    if output == "json":
        return json.dumps({"environment": env, "published": published}, indent=2)
    lines = []
    for item in published:
        line = (
            f"{env}: {item['key']} published as version {item.get('version')} "
            f"(release {item.get('release_id')}, revision {item.get('revision', '?')})"
        )
        lines.append(f"- {line}" if output == "markdown" else line)
    return "\n".join(lines)
