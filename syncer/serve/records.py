"""What the service remembers, as plain data: runs, each environment of a run, each flow's last state.

The storage (``history``) writes and reads these; the page and the metrics only ever see them. None of
them holds a concealed value: they are built from plans and apply results, which never carry one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_now() -> str:
    """ISO-8601 UTC with a ``Z``, to the millisecond (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str | None) -> datetime | None:
    """The inverse of ``utc_now`` (also reads the tenants' and annotations' timestamps)."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass
class EnvironmentRecord:
    """One environment of one run."""

    environment: str
    result: str
    detail: str = ""
    window_deferred: bool = False
    verify_refused: bool = False
    counts: dict[str, int] = field(default_factory=dict)  # plan statuses, plus "writes"
    report: dict[str, Any] = field(default_factory=dict)  # the plan as JSON and every flow's result


@dataclass
class RunRecord:
    """One run: when, why (``trigger``), which commit, its result and the report."""

    id: str
    started_at: str
    trigger: str
    finished_at: str | None = None
    git_commit: str = ""
    result: str = "running"
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    environments: list[EnvironmentRecord] = field(default_factory=list)

    def duration(self) -> float | None:
        start, end = parse_time(self.started_at), parse_time(self.finished_at)
        return (end - start).total_seconds() if start and end else None


@dataclass
class Diagram:
    """One changed track: its title, the Mermaid source and the same diagram drawn as SVG."""

    title: str
    mermaid: str
    svg: str


@dataclass
class FlowState:
    """A flow in an environment as the last run that reached the tenant left it."""

    environment: str
    flow: str
    title: str
    status: (
        str  # the SPEC's vocabulary: in_sync, create, update, drift, conflict, unmanaged, orphaned
    )
    run_id: str
    updated_at: str
    live_revision: int | None = None
    applied_commit: str = ""
    applied_at: str = ""
    applied_by: str = ""
    edited_by: str = ""
    edited_at: str = ""
    edit_hotfix: bool = False
    breaking: bool = False
    held: str = ""  # why a pending write was not made (window, verify, refused, failed)
    outcome: str = ""  # what this run did to it: created, updated, skipped, failed ...
    words: list[str] = field(default_factory=list)
    diagrams: list[Diagram] = field(default_factory=list)


@dataclass
class EnvironmentState:
    """An environment as the last run left it: its result, its window, its last success."""

    environment: str
    run_id: str
    result: str
    checked_at: str
    detail: str = ""
    url: str = ""
    last_success_at: str = ""
    window_open: bool = True
    window_reason: str = ""
    window_next_open: str = ""
    verify_refused: bool = False
    reached: bool = True  # whether the run got the tenant's list (the tenant answered)
