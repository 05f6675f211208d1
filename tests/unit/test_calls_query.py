"""Query parameters, cursors and report buckets of the call endpoints."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pbx.calls.query import (
    decode_cursor,
    encode_cursor,
    local_buckets,
    parse_limit,
    parse_number,
    parse_range,
    parse_time,
)
from pbx.domain.errors import Invalid

UTC = timezone.utc
ISTANBUL = ZoneInfo("Europe/Istanbul")


def test_times_need_an_offset():
    assert parse_time("2026-11-23T09:00:00+03:00", "from") == datetime(2026, 11, 23, 6, tzinfo=UTC)
    assert parse_time("2026-11-23T06:00:00.123456789Z", "from").microsecond == 123456
    for bad in ("2026-11-23", "2026-11-23T09:00:00", "garbage", "2026-13-01T00:00:00Z", "2026-11-23T09:00:00Z\n",
                "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:00", "２０２６-11-23T09:00:00Z"):
        with pytest.raises(Invalid):
            parse_time(bad, "from")


def test_ranges():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_range(None, None) == (None, None)
    assert parse_range(None, None, default_days=30, now=now) == (now - timedelta(days=30), now)
    with pytest.raises(Invalid):
        parse_range("2026-11-24T00:00:00Z", "2026-11-23T00:00:00Z")
    with pytest.raises(Invalid):
        parse_range("2020-01-01T00:00:00Z", None, default_days=30, max_days=92, now=now)


def test_numbers_in_every_spelling_and_extensions():
    for spelling in ("0850 555 03 31", "908505550331", "+908505550331", "08505550331"):
        assert parse_number(spelling).value == "+908505550331" and not parse_number(spelling).is_extension
    assert parse_number("101").is_extension and parse_number("112").value == "112"
    for bad in ("1;2", "1,2", "1|2", "101\n", "9" * 60, "' OR 1=1 --", "", "0", "abc"):
        with pytest.raises(Invalid):
            parse_number(bad)


def test_limits():
    assert parse_limit(None) == 100 and parse_limit("7") == 7
    for bad in ("0", "501", "-1", "1e3", "99999999999999999999", "７"):
        with pytest.raises(Invalid):
            parse_limit(bad)


def test_cursors_round_trip_and_reject_forgeries():
    moment = datetime(2026, 11, 23, 9, 30, 1, 250000, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)
    for bad in ("garbage", "", "=" * 10, "9" * 500, "MTIz", "LTEuMQ"):  # MTIz = "123", LTEuMQ = "-1.1"
        with pytest.raises(Invalid):
            decode_cursor(bad)


def test_days_follow_the_tenants_clock():
    start, end = datetime(2026, 11, 22, 21, 30, tzinfo=UTC), datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert local_buckets(start, end, ISTANBUL, "day") == [
        ("2026-11-23", start, datetime(2026, 11, 23, 21, tzinfo=UTC)),
        ("2026-11-24", datetime(2026, 11, 23, 21, tzinfo=UTC), end)]
    assert [label for label, *_ in local_buckets(start, end, UTC, "day")] == ["2026-11-22", "2026-11-23"]


def test_a_day_with_a_clock_change_has_23_hours():
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 29, tzinfo=berlin).astimezone(UTC)
    end = datetime(2026, 3, 30, tzinfo=berlin).astimezone(UTC)
    [(label, first, last)] = local_buckets(start, end, berlin, "day")
    assert label == "2026-03-29" and last - first == timedelta(hours=23)
    hours = [label for label, *_ in local_buckets(start, end, berlin, "hour")]
    assert len(hours) == 23 and "02" not in hours


def test_hours_follow_half_hour_zones():
    kolkata = ZoneInfo("Asia/Kolkata")
    start = datetime(2026, 11, 23, 9, 0, tzinfo=kolkata).astimezone(UTC)
    buckets = local_buckets(start, start + timedelta(hours=2), kolkata, "hour")
    assert [(label, first.astimezone(kolkata).minute) for label, first, _ in buckets] == [("09", 0), ("10", 0)]
