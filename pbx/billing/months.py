"""Billing months are the tenant's calendar months (its time zone, Europe/Istanbul by
default): a call at 00:30 on the 1st in Istanbul belongs to that month, though it is
still the previous month in UTC."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"(20[0-9]{2})-(0[1-9]|1[0-2])")


def parse_month(text: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(text or "")
    if not match:
        raise ValueError("month must be YYYY-MM (2000-01 to 2099-12)")
    return int(match.group(1)), int(match.group(2))


def month_bounds(month: str, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the month in UTC."""
    year, number = parse_month(month)
    tz = ZoneInfo(zone)
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def month_of(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m")
