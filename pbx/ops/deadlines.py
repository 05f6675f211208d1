"""A fault's response and resolution deadlines. Pure: times in, times out.

Kritik counts around the clock: seed 003 has critical problems handled outside support hours
too (a Kritik ticket plus an SMS to the on-call line). Yüksek, Normal and Düşük count support
hours only: 09:00-18:00 Europe/Istanbul on Turkish business days (pbx/numbers/business_days:
weekdays, the `holidays` library's public holidays excluded; on the half-day eves, arife, they
end at 13:00). Tickets are accepted 24/7 in every case: a fault opened at 23:00
on a Friday is recorded then, and its support-hours clock starts on Monday at 09:00. The RFO
is due 48 h after closing, around the clock (seed 001).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbx.numbers.business_days import is_business_day, is_half_day

SUPPORT_ZONE = ZoneInfo("Europe/Istanbul")
SUPPORT_OPENS, SUPPORT_CLOSES, HALF_DAY_CLOSES = time(9, 0), time(18, 0), time(13, 0)
PRIORITIES = ("kritik", "yuksek", "normal", "dusuk")
RESPONSE_HOURS = {"kritik": 1, "yuksek": 2, "normal": 4, "dusuk": 24}
RESOLUTION_HOURS = {"kritik": 4, "yuksek": 8, "normal": 24, "dusuk": 48}
AROUND_THE_CLOCK = frozenset({"kritik"})
RFO_DUE = timedelta(hours=48)


is_support_day = is_business_day  # one Turkish calendar for porting dates and fault deadlines


def add_support_hours(start: datetime, hours: float) -> datetime:
    """The instant `hours` of support time after `start` (aware): the clock runs only inside
    support hours, from wherever `start` falls."""
    remaining = timedelta(hours=hours)
    local = start.astimezone(SUPPORT_ZONE)
    while True:
        day = local.date()
        opens = datetime.combine(day, SUPPORT_OPENS, SUPPORT_ZONE)
        closes = datetime.combine(day, HALF_DAY_CLOSES if is_half_day(day) else SUPPORT_CLOSES, SUPPORT_ZONE)
        if is_support_day(day) and local < closes:
            begin = max(local, opens)
            if begin + remaining <= closes:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= closes - begin
        local = datetime.combine(day + timedelta(days=1), time(0), SUPPORT_ZONE)


def due(priority: str, opened_at: datetime, hours_by_priority: dict[str, int]) -> datetime:
    hours = hours_by_priority[priority]
    if priority in AROUND_THE_CLOCK:
        return opened_at + timedelta(hours=hours)
    return add_support_hours(opened_at, hours)


def respond_by(priority: str, opened_at: datetime) -> datetime:
    return due(priority, opened_at, RESPONSE_HOURS)


def resolve_by(priority: str, opened_at: datetime) -> datetime:
    return due(priority, opened_at, RESOLUTION_HOURS)


def rfo_due(resolved_at: datetime) -> datetime:
    return resolved_at + RFO_DUE
