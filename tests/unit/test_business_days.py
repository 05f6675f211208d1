"""A port is due 3 Turkish business days after it was submitted: weekends and public holidays skipped."""
from __future__ import annotations

from datetime import date

import pytest

from pbx.numbers.business_days import add_business_days, is_business_day


@pytest.mark.parametrize("submitted, due", [
    (date(2026, 12, 1), date(2026, 12, 4)),  # Tuesday -> Friday
    (date(2026, 12, 4), date(2026, 12, 9)),  # Friday -> Wednesday (weekend skipped)
    (date(2026, 10, 27), date(2026, 11, 2)),  # Wed 28, (Thu 29 Cumhuriyet Bayramı), Fri 30, (weekend), Mon 2
])
def test_weekends_and_holidays_are_skipped(submitted, due):
    assert add_business_days(submitted, 3) == due


def test_around_kurban_bayrami_2026():
    # Tue 26 May (arife, a half day) -> Wed 27 to Sat 30 are the Bayram, Sun 31 -> Mon 1, Tue 2, Wed 3 June
    assert add_business_days(date(2026, 5, 26), 3) == date(2026, 6, 3)
    assert not is_business_day(date(2026, 5, 27)) and is_business_day(date(2026, 5, 26))


def test_around_new_year_and_national_days():
    assert add_business_days(date(2026, 12, 30), 3) == date(2027, 1, 5)  # Thu 31, (Fri 1 Jan), Mon 4, Tue 5
    assert not is_business_day(date(2027, 4, 23)) and not is_business_day(date(2027, 7, 15))
