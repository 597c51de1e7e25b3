"""Sync windows (SPEC 4 `windows:`): when reconcile may write. Deny wins over allow.

A window is open at ``t`` when its cron fired at some ``s`` with ``s <= t < s + duration``, evaluated in
the window's time zone. With no allow window, writes are allowed unless a deny window is open; with
allow windows, a write also needs one of them open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from ..model import Window


def is_open(window: Window, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(window.timezone))
    start_search = local - timedelta(seconds=window.duration_seconds)
    fired = croniter(window.cron, start_search).get_next(datetime)
    return bool(fired <= local)


def writes_allowed(windows: Sequence[Window], at: datetime) -> tuple[bool, str]:
    """Whether reconcile may write at ``at``, and why not."""
    for window in windows:
        if window.kind == "deny" and is_open(window, at):
            return False, f"deny window `{window.cron}` ({window.timezone}) is open"
    allows = [w for w in windows if w.kind == "allow"]
    if allows and not any(is_open(w, at) for w in allows):
        return False, "no allow window is open"
    return True, ""


def next_open(
    windows: Sequence[Window], at: datetime, horizon: timedelta = timedelta(days=62)
) -> datetime | None:
    """The first moment at or after ``at`` when ``writes_allowed`` says yes (None: not within
    ``horizon``). Jumps from one window edge to the next: the end of an open deny window, the next
    start of an allow window."""
    moment = at
    for _ in range(500):
        if writes_allowed(windows, moment)[0]:
            return moment
        edges = [edge for w in windows if (edge := _next_edge(w, moment)) is not None]
        later = [edge for edge in edges if edge > moment]
        if not later:
            return None
        moment = min(later)
        if moment - at > horizon:
            return None
    return None


def _next_edge(window: Window, at: datetime) -> datetime | None:
    local = at.astimezone(ZoneInfo(window.timezone))
    duration = timedelta(seconds=window.duration_seconds)
    if window.kind == "deny" and is_open(window, at):
        fired = croniter(window.cron, local - duration).get_next(datetime)
        return _utc(fired + duration)
    if window.kind == "allow" and not is_open(window, at):
        return _utc(croniter(window.cron, local).get_next(datetime))
    return None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
