"""The virtual clock: time is whole seconds since the care flow started, never the machine's clock.

A case always starts at ``VIRTUAL_START`` (a fixed date), so that a date rule, a "days ago" rule and
every rendered time are the same on every machine and every day. Delays use Awell's units; months and
years are calendar months and years from the moment they start (31 January + 1 month = 29 February
2024, as a calendar would say), so a "one month" timer does not drift by the length of the month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

VIRTUAL_START = datetime(2024, 1, 1, tzinfo=UTC)
"""The virtual moment every case starts at (a Monday). Dates in events are relative to it."""

UNITS = ("second", "minute", "hour", "day", "week", "month", "year")
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
DAY = 86400


@dataclass(frozen=True)
class Delay:
    """An amount of Awell time units (``{amount: 4, unit: week}``)."""

    amount: float
    unit: str

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {self.unit}{'' if amount == 1 else 's'}"


def moment(at: int) -> datetime:
    """The virtual date and time of ``at`` seconds after the start."""
    return VIRTUAL_START + timedelta(seconds=at)


END = int((datetime(9000, 1, 1, tzinfo=UTC) - VIRTUAL_START).total_seconds())
"""The clock's last moment: a delay that would end later (10,000 years, 1e308 seconds) ends here,
still after everything a realistic timer does, and still a date Python can write."""


def later(at: int, delay: Delay | None) -> int:
    """``at`` plus ``delay`` (none: ``at``), in whole seconds; never earlier than ``at`` and never
    later than ``END``."""
    if delay is None or delay.amount <= 0:
        return at
    if delay.unit in _SECONDS:
        seconds = delay.amount * _SECONDS[delay.unit]
        return END if not seconds < END - at else at + round(seconds)  # not <: NaN and inf too
    months = delay.amount * (12 if delay.unit == "year" else 1)
    if not months < 12 * (9000 - moment(at).year) - 1:  # would end past the year 9000 (or NaN)
        return END
    whole = int(months)
    start = moment(at)
    shifted = _add_months(start, whole)
    # A fraction of a month is a fraction of 30 days: Awell's editors only offer whole months.
    seconds = int((shifted - VIRTUAL_START).total_seconds()) + round((months - whole) * 30 * DAY)
    return min(END, max(at, seconds))


def _add_months(start: datetime, months: int) -> datetime:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def elapsed(at: int) -> str:
    """``day 3 14:05`` for ``at`` seconds after the start (day 0 is the day the care flow started)."""
    days, rest = divmod(at, DAY)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"day {days} {hours:02d}:{minutes:02d}"
    return text + (f":{seconds:02d}" if seconds else "")


def iso(at: int) -> str:
    """The virtual moment of ``at`` as an ISO 8601 UTC timestamp."""
    return moment(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_at(at: int) -> date:
    """The virtual calendar date at ``at``."""
    return moment(at).date()
