"""The report's life on a pull request: one comment per environment, updated in place on every run,
and one commit status per environment (context ``syncer/<environment>``) on the commit reviewed.

A status is ``success`` when nothing needs a person in that environment (changes to apply are good
news), ``failure`` when a flow does (drift, conflict, unmanaged, orphaned), ``error`` when planning
failed; its description is the report's first line and its link the environment's comment (or the
workflow run). Branch protection can then require exactly the environments a team cares about.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model import EnvironmentPlan
from ..report import headline, render_environment_markdown, report_marker
from ..report.annotations import status_state
from . import GitHub
from .actions import Env, append_step_summary, run_url

STATUS_CONTEXT = "syncer/{environment}"


@dataclass(frozen=True)
class Posted:
    """One environment's report comment on a pull request."""

    environment: str
    action: str  # created | updated
    comment_id: int
    url: str


def post_comments(
    hub: GitHub,
    plans: Sequence[EnvironmentPlan],
    pr: int,
    env: Env | None = None,
    extra: Sequence[tuple[str, str, str]] = (),
) -> list[Posted]:
    """Post or update one comment per environment, then each of ``extra`` (what, marker, body: the
    test cases' comment); each also goes to the job summary."""
    server = (os.environ if env is None else env).get("GITHUB_SERVER_URL", "")
    comments = [
        (plan.environment, report_marker(plan.environment), render_environment_markdown(plan))
        for plan in plans
    ]
    posted = []
    for what, marker, body in [*comments, *extra]:
        action, comment_id = hub.upsert_comment(pr, marker, body)
        posted.append(Posted(what, action, comment_id, hub.comment_url(pr, comment_id, server)))
        append_step_summary(body, env)
    return posted


def set_statuses(
    hub: GitHub,
    plans: Sequence[EnvironmentPlan],
    sha: str,
    posted: Sequence[Posted] = (),
    env: Env | None = None,
    notify: Callable[[str], None] = lambda _line: None,
) -> dict[str, str]:
    """Set ``syncer/<environment>`` on ``sha`` for every plan; returns environment -> state."""
    links = {p.environment: p.url for p in posted}
    states = {}
    for plan in plans:
        state = status_state(plan)
        context = STATUS_CONTEXT.format(environment=plan.environment)
        target = links.get(plan.environment) or run_url(env)
        hub.set_status(sha, context, state, headline(plan), target)
        states[plan.environment] = state
        notify(f"{plan.environment}: commit status {context} = {state} on {sha[:12]}")
    return states
