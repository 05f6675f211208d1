"""Turkish business days: not Saturday or Sunday, not a public holiday. The holidays come
from the `holidays` library (the religious ones move with the lunar calendar every year;
the arife half days are business days), the same calendar the panel offers for schedules.
A port's expected date is 3 business days after the day it was submitted (Istanbul's
calendar): submitted on a Friday, it is due on Wednesday."""
from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

PORTING_BUSINESS_DAYS = 3


@cache
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("TR", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= is_business_day(day)
    return day
