"""Turkish business days: not Saturday or Sunday, not a public holiday (holidays_tr.toml).
A port's expected date is 3 business days after the day it was submitted (Istanbul's
calendar): submitted on a Friday, it is due on Wednesday."""
from __future__ import annotations

import tomllib
from datetime import date, timedelta
from functools import cache
from pathlib import Path

PORTING_BUSINESS_DAYS = 3
_DATA = Path(__file__).with_name("holidays_tr.toml")


@cache
def _holidays() -> tuple[frozenset[str], frozenset[date]]:
    raw = tomllib.loads(_DATA.read_text(encoding="utf-8"))
    return frozenset(raw["fixed"]), frozenset(date.fromisoformat(d) for days in raw["religious"].values()
                                              for d in days)


def is_business_day(day: date) -> bool:
    fixed, religious = _holidays()
    return day.weekday() < 5 and day.strftime("%m-%d") not in fixed and day not in religious


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= is_business_day(day)
    return day
