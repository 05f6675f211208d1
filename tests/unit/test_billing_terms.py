"""The commitment's date and money rules: pro-rata upgrade (the README's worked example),
trial reminders and suspension, renewal."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pbx.billing.terms import add_months, due, prorata_upgrade, reminder_text, term_end

UTC = timezone.utc
START = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_readme_worked_example_of_a_pro_rata_upgrade():
    """Girişimci (250) -> KOBİ (700) on day 100 of a 365-day term: 265 days remain.
    (700 - 250) × 12 × 265 / 365 = 3920.547... -> 3920.55 TL before KDV."""
    at = START + timedelta(days=100)
    assert prorata_upgrade(Decimal("250.00"), Decimal("700.00"), START, at, 12) == Decimal("3920.55")


def test_an_upgrade_on_the_first_day_costs_the_whole_difference_and_on_the_last_nothing():
    assert prorata_upgrade(Decimal(250), Decimal(700), START, START, 12) == Decimal("5400.00")
    assert prorata_upgrade(Decimal(250), Decimal(700), START, term_end(START, 12), 12) == Decimal("0.00")
    with pytest.raises(ValueError):
        prorata_upgrade(Decimal(700), Decimal(250), START, START, 12)


def test_months_are_added_by_the_calendar():
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 15, tzinfo=UTC), 12) == datetime(2027, 11, 15, tzinfo=UTC)


def trial(now, sent=(), suspended=False, converted=False):
    return due(now, trial_ends_at=START + timedelta(days=30), converted=converted, suspended=suspended,
               term_started_at=START, commitment_months=12, sent=set(sent))


def test_trial_reminders_seven_and_one_days_before_then_suspension():
    ends = START + timedelta(days=30)
    assert trial(ends - timedelta(days=8)).reminders == ()
    assert trial(ends - timedelta(days=7)).reminders == ("trial-7",)
    assert trial(ends - timedelta(days=1), sent=["trial-7"]).reminders == ("trial-1",)
    assert trial(ends - timedelta(hours=1), sent=["trial-7", "trial-1"]).reminders == ()
    assert not trial(ends - timedelta(seconds=1)).suspend
    assert trial(ends).suspend and not trial(ends, suspended=True).suspend
    assert not trial(ends + timedelta(days=3), converted=True).suspend


def test_renewal_reminder_a_month_before_and_renewal_at_the_end():
    end = term_end(START, 12)
    assert due(end - timedelta(days=31), trial_ends_at=None, converted=False, suspended=False,
               term_started_at=START, commitment_months=12, sent=set()).reminders == ()
    soon = due(end - timedelta(days=30), trial_ends_at=None, converted=False, suspended=False,
               term_started_at=START, commitment_months=12, sent=set())
    assert soon.reminders == ("renewal-2027-01-01",) and not soon.renew
    assert due(end, trial_ends_at=None, converted=False, suspended=False, term_started_at=START,
               commitment_months=12, sent=set()).renew


def test_reminders_are_turkish():
    subject, body = reminder_text("trial-7", "Çağrı Ltd", START)
    assert "Deneme süreniz 7 gün" in subject and "Sayın Çağrı Ltd" in body and "silinmez" in body
