"""Fault deadlines at the edges: 18:00, the weekend, a public holiday, a half-day eve (13:00),
before opening."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pbx.ops import deadlines

IST = ZoneInfo("Europe/Istanbul")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST).astimezone(timezone.utc)


def local(value: datetime) -> str:
    return value.astimezone(IST).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("opened, hours, expected", [
    ("2026-12-02 10:00", 4, "2026-12-02 14:00"),  # a Wednesday, inside support hours
    ("2026-12-02 16:00", 2, "2026-12-02 18:00"),  # ends exactly at closing
    ("2026-12-02 17:00", 4, "2026-12-03 12:00"),  # 1 h today, 3 h tomorrow from 09:00
    ("2026-12-02 18:00", 2, "2026-12-03 11:00"),  # opened at closing: starts tomorrow
    ("2026-12-02 07:30", 4, "2026-12-02 13:00"),  # before opening: starts at 09:00
    ("2026-12-04 17:00", 4, "2026-12-07 12:00"),  # Friday 17:00: Monday, over the weekend
    ("2026-12-05 11:00", 2, "2026-12-07 11:00"),  # opened on a Saturday
    ("2026-10-28 17:30", 2, "2026-10-30 11:00"),  # after the eve's 13:00; 29 October is skipped
    ("2026-12-31 16:00", 24, "2027-01-06 13:00"),  # New Year's Day and a weekend: 2 + 9 + 9 + 4 h
])
def test_support_hours_count_weekdays_nine_to_six_without_holidays(opened, hours, expected):
    assert local(deadlines.add_support_hours(at(opened), hours)) == expected


def test_kritik_counts_around_the_clock_and_the_others_support_hours():
    saturday_night = at("2026-12-05 23:30")
    assert local(deadlines.respond_by("kritik", saturday_night)) == "2026-12-06 00:30"
    assert local(deadlines.resolve_by("kritik", saturday_night)) == "2026-12-06 03:30"
    assert local(deadlines.respond_by("yuksek", saturday_night)) == "2026-12-07 11:00"
    assert local(deadlines.resolve_by("yuksek", saturday_night)) == "2026-12-07 17:00"
    assert local(deadlines.respond_by("normal", saturday_night)) == "2026-12-07 13:00"
    assert local(deadlines.resolve_by("normal", saturday_night)) == "2026-12-09 15:00"  # 24 h: 9+9+6
    assert local(deadlines.respond_by("dusuk", saturday_night)) == "2026-12-09 15:00"
    assert local(deadlines.resolve_by("dusuk", saturday_night)) == "2026-12-14 12:00"  # 48 h: 5x9 + 3


def test_the_rfo_is_due_48_hours_after_closing_whatever_the_day():
    closed = at("2026-12-04 17:00")
    assert deadlines.rfo_due(closed) - closed == timedelta(hours=48)


def test_turkish_public_holidays_come_from_the_holidays_library():
    assert not deadlines.is_support_day(datetime(2026, 4, 23).date())  # Ulusal Egemenlik ve Çocuk Bayramı
    assert not deadlines.is_support_day(datetime(2026, 5, 1).date())
    assert deadlines.is_support_day(datetime(2026, 12, 1).date())


@pytest.mark.parametrize("opened, hours, expected", [
    ("2026-03-19 10:00", 3, "2026-03-19 13:00"),  # Ramazan Bayramı's eve: ends exactly at 13:00
    ("2026-03-19 10:00", 4, "2026-03-23 10:00"),  # 3 h on the eve, the Bayram and a weekend, 1 h Monday
    ("2026-03-19 13:00", 1, "2026-03-23 10:00"),  # opened at the eve's closing
    ("2026-03-19 12:59", 1, "2026-03-23 09:59"),  # a minute before it
    ("2026-05-26 12:00", 2, "2026-06-01 10:00"),  # Kurban Bayramı's eve, then 27-30 May and a Sunday
    ("2026-10-28 11:00", 4, "2026-10-30 11:00"),  # 29 October's eve: 2 h, the holiday, 2 h
    ("2026-10-28 14:00", 1, "2026-10-30 10:00"),  # after the eve's 13:00: as after 18:00
])
def test_support_hours_end_at_13_on_the_half_day_eves(opened, hours, expected):
    assert local(deadlines.add_support_hours(at(opened), hours)) == expected


def test_the_half_day_eves_come_from_the_holidays_library():
    from pbx.numbers.business_days import is_half_day

    assert [d for d in (datetime(2026, 3, 19), datetime(2026, 5, 26), datetime(2026, 10, 28)) if is_half_day(d.date())]
    assert not is_half_day(datetime(2026, 10, 27).date()) and not is_half_day(datetime(2026, 10, 29).date())
    assert deadlines.is_support_day(datetime(2026, 10, 28).date())  # a working day, a short one
