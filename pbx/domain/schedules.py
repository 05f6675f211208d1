"""Business hours and holidays. Pure: is a schedule open at a given instant?

A weekly rule is open from `open` (inclusive) to `close` (exclusive) in the
schedule's time zone; `24:00` closes at midnight, and a rule whose close is not
after its open runs past midnight into the next day. Holidays close the whole day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Rule:
    days: frozenset[str]
    open: time
    close: time | None  # None = 24:00

    @property
    def overnight(self) -> bool:
        return self.close is not None and self.close <= self.open


@dataclass(frozen=True)
class Schedule:
    timezone: str
    rules: tuple[Rule, ...]
    holidays: frozenset[date]


def parse_clock(text: str) -> time | None:
    """'HH:MM' -> time; '24:00' -> None (end of day)."""
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def from_stored(timezone: str, weekly: list[dict], holidays: list[dict]) -> Schedule:
    """The stored (API) form as the rules read it."""
    return Schedule(
        timezone=timezone,
        rules=tuple(Rule(frozenset(r["days"]), parse_clock(r["open"]), parse_clock(r["close"])) for r in weekly),
        holidays=frozenset(date.fromisoformat(h["date"]) for h in holidays),
    )


def is_open(schedule: Schedule, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(schedule.timezone))
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local.weekday() - 1) % 7]
    if local.date() in schedule.holidays:
        return False
    now = local.time().replace(tzinfo=None)
    for rule in schedule.rules:
        if today in rule.days and _within_today(rule, now):
            return True
        if rule.overnight and yesterday in rule.days and now < rule.close and \
                (local.date() - timedelta(days=1)) not in schedule.holidays:
            return True
    return False


def _within_today(rule: Rule, now: time) -> bool:
    if rule.overnight:
        return now >= rule.open
    return now >= rule.open and (rule.close is None or now < rule.close)
