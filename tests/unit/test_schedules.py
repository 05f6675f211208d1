from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from pbx.domain.schedules import Rule, Schedule, is_open, parse_clock

IST = ZoneInfo("Europe/Istanbul")
WEEKDAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})
OFFICE = Schedule("Europe/Istanbul", (Rule(WEEKDAYS, parse_clock("09:00"), parse_clock("18:00")),),
                  frozenset({date(2026, 10, 29)}))


def at(y, mo, d, h, mi, s=0, tz=IST):
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


@pytest.mark.parametrize("moment, expected", [
    (at(2026, 11, 23, 8, 59, 59), False),  # Monday, a second before opening
    (at(2026, 11, 23, 9, 0), True),  # exactly 09:00 is open
    (at(2026, 11, 23, 17, 59, 59), True),
    (at(2026, 11, 23, 18, 0), False),  # exactly 18:00 is closed
    (at(2026, 11, 23, 0, 0), False),  # midnight
    (at(2026, 11, 28, 12, 0), False),  # Saturday
    (at(2026, 10, 29, 12, 0), False),  # Republic Day, a Thursday: holiday
    (at(2026, 10, 30, 12, 0), True),
])
def test_office_hours(moment, expected):
    assert is_open(OFFICE, moment) is expected


def test_the_schedules_time_zone_decides_not_the_callers():
    # 06:30 UTC is 09:30 in Istanbul (UTC+3).
    assert is_open(OFFICE, datetime(2026, 11, 23, 6, 30, tzinfo=timezone.utc))
    assert not is_open(OFFICE, datetime(2026, 11, 23, 5, 59, tzinfo=timezone.utc))


def test_until_midnight_and_overnight_rules():
    late = Schedule("Europe/Istanbul", (Rule(frozenset({"fri"}), parse_clock("20:00"), parse_clock("24:00")),),
                    frozenset())
    assert is_open(late, at(2026, 11, 27, 23, 59, 59)) and not is_open(late, at(2026, 11, 28, 0, 0))
    night = Schedule("Europe/Istanbul", (Rule(frozenset({"fri"}), parse_clock("22:00"), parse_clock("06:00")),),
                     frozenset({date(2026, 12, 4)}))
    assert is_open(night, at(2026, 11, 27, 23, 0))  # Friday night
    assert is_open(night, at(2026, 11, 28, 5, 59))  # into Saturday morning
    assert not is_open(night, at(2026, 11, 28, 6, 0))
    assert not is_open(night, at(2026, 12, 5, 1, 0))  # the night began on a holiday
