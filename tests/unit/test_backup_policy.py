"""Pure parts of backups: which backups the 7 daily + 4 weekly policy keeps, and
when the scheduled backup is due."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pbx.backup.job import FIRST_AFTER_S, seconds_until_due
from pbx.backup.policy import to_keep

MONDAY = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # ISO week 49


def _daily(days: int, per_day: int = 1) -> dict[str, datetime]:
    return {f"b{d}-{i}": MONDAY - timedelta(days=d, hours=i) for d in range(days) for i in range(per_day)}


def test_seven_daily_and_four_weekly_from_forty_days_of_daily_backups():
    taken = _daily(40)
    keep = to_keep(taken, daily=7, weekly=4)
    daily = {f"b{d}-0" for d in range(7)}  # 30 Nov back to 24 Nov
    # The newest of each of the last 4 ISO weeks: wk49 = 30 Nov (b0), wk48 = Sun 29 Nov (b1),
    # wk47 = Sun 22 Nov (b8), wk46 = Sun 15 Nov (b15).
    weekly = {"b0-0", "b1-0", "b8-0", "b15-0"}
    assert keep == daily | weekly and len(keep) == 9


def test_only_the_newest_of_a_day_counts_and_days_without_backups_are_skipped():
    taken = _daily(3, per_day=3)
    taken["old"] = MONDAY - timedelta(days=200)
    keep = to_keep(taken, daily=7, weekly=0)
    assert keep == {"b0-0", "b1-0", "b2-0", "old"}  # four days with backups, each one's newest


def test_the_newest_backup_is_kept_whatever_the_policy():
    taken = _daily(5)
    assert to_keep(taken, daily=0, weekly=0) == {"b0-0"}
    assert to_keep({}, 7, 4) == set()


def test_weeks_are_iso_weeks_not_seven_day_windows():
    sunday, monday = MONDAY - timedelta(hours=4), MONDAY  # 29 Nov 23:00 (wk48), 30 Nov 03:00 (wk49)
    assert to_keep({"sun": sunday, "mon": monday}, daily=0, weekly=2) == {"sun", "mon"}
    assert to_keep({"sun": sunday, "mon": monday}, daily=0, weekly=1) == {"mon"}


def test_the_scheduled_backup_is_due_one_interval_after_the_newest():
    day = 86400.0
    assert seconds_until_due(MONDAY, day, MONDAY + timedelta(hours=6)) == day - 6 * 3600
    assert seconds_until_due(MONDAY, day, MONDAY + timedelta(days=3)) == 0
    assert seconds_until_due(None, day, MONDAY) == FIRST_AFTER_S
    assert seconds_until_due(None, 60.0, MONDAY) == 60.0
