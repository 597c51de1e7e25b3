"""When a window next lets reconcile write (shown on the status page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncer.model import Window
from syncer.reconcile.windows import next_open, writes_allowed

AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


def test_a_deny_window_opens_when_it_ends_in_its_own_time_zone() -> None:
    deny = [Window("deny", "0 9 * * 1-5", 8 * 3600, "Europe/Amsterdam")]
    assert next_open(deny, AT) == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)


def test_an_allow_window_opens_at_its_next_start_and_deny_wins_inside_it() -> None:
    allow = Window("allow", "0 22 * * *", 3600, "UTC")
    assert next_open([allow], AT) == datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    deny = Window("deny", "0 21 4 3 *", 2 * 3600, "UTC")  # covers 22:00 that one day
    opens = next_open([allow, deny], AT)
    assert opens == datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
    assert opens is not None and writes_allowed([allow, deny], opens)[0]


def test_open_now_is_now_and_never_is_none() -> None:
    assert next_open([], AT) == AT
    always = [Window("deny", "* * * * *", 7200, "UTC")]
    assert next_open(always, AT, horizon=timedelta(days=2)) is None
