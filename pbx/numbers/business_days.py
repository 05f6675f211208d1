"""Turkish business days: not Saturday or Sunday, not a public holiday. The holidays come
from the `holidays` library (the religious ones move with the lunar calendar every year;
the arife half days, "from 1pm" in its half_day category, are business days that end at
13:00), the same calendar the panel offers for schedules.
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


@cache
def _half_days(year: int) -> frozenset[date]:
    """The eves (arife) of Ramazan and Kurban Bayramı and of 29 October: work ends at 13:00."""
    return frozenset(holidays.country_holidays("TR", years=year, categories=("half_day",)))


def is_half_day(day: date) -> bool:
    return day in _half_days(day.year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= is_business_day(day)
    return day
