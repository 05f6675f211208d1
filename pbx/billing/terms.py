"""The commercial terms as pure date and money rules: the 12-month commitment, the 30-day
trial and its reminders, a pro-rata upgrade, a downgrade at renewal, the renewal reminder.

Pro-rata upgrade (README "Billing"): moving up mid-term costs the monthly difference for
the rest of the term, counted in days:

    charge = (new monthly − old monthly) × commitment months × remaining days / term days

rounded to kuruş once (half-up). The new plan applies at once and is billed at its full
price from the next month on; the charge covers the current month's rest too. A downgrade
is only noted and takes effect at the next renewal (the commitment was for the old plan)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pbx.billing.money import kurus

TRIAL_REMINDER_DAYS = (7, 1)  # e-mails this many days before a trial ends
RENEWAL_REMINDER_DAYS = 30


def add_months(moment: datetime, months: int) -> datetime:
    """The same day-of-month `months` later (the 31st becomes the month's last day)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def term_end(term_started_at: datetime, commitment_months: int) -> datetime:
    return add_months(term_started_at, commitment_months)


def prorata_upgrade(old_monthly: Decimal, new_monthly: Decimal, term_started_at: datetime, at: datetime,
                    commitment_months: int) -> Decimal:
    if new_monthly <= old_monthly:
        raise ValueError("an upgrade is to a dearer plan")
    end = term_end(term_started_at, commitment_months)
    term_days = (end - term_started_at).days
    remaining_days = max(0, (end - at).days)
    return kurus((new_monthly - old_monthly) * commitment_months * remaining_days / term_days)


@dataclass(frozen=True)
class Due:
    """What the terms job owes one tenant now."""
    reminders: tuple[str, ...] = ()  # keys like "trial-7", "renewal-2027-12-01", not yet sent
    suspend: bool = False
    renew: bool = False


def due(now: datetime, *, trial_ends_at: datetime | None, converted: bool, suspended: bool,
        term_started_at: datetime, commitment_months: int, sent: set[str]) -> Due:
    reminders: list[str] = []
    if trial_ends_at is not None and not converted:
        reminders += [f"trial-{d}" for d in TRIAL_REMINDER_DAYS if now >= trial_ends_at - timedelta(days=d)
                      and now < trial_ends_at]
        return Due(tuple(r for r in reminders if r not in sent), suspend=now >= trial_ends_at and not suspended)
    end = term_end(term_started_at, commitment_months)
    if end - timedelta(days=RENEWAL_REMINDER_DAYS) <= now < end:
        reminders.append(f"renewal-{end.date().isoformat()}")
    return Due(tuple(r for r in reminders if r not in sent), renew=now >= end)


def reminder_text(key: str, tenant_name: str, ends_at: datetime) -> tuple[str, str]:
    """(subject, body) in Turkish."""
    day = ends_at.strftime("%d.%m.%Y")
    if key.startswith("trial-"):
        days = key.removeprefix("trial-")
        return (f"Deneme süreniz {days} gün sonra bitiyor",
                f"Sayın {tenant_name},\n\n30 günlük ücretsiz deneme süreniz {day} tarihinde sona eriyor. "
                "Santralinizin kesintisiz çalışması için paketinizi satın alın; aksi halde hizmet askıya "
                "alınır (verileriniz silinmez).\n")
    return ("Sözleşmenizin yenilenmesi yaklaşıyor",
            f"Sayın {tenant_name},\n\n12 aylık taahhüt süreniz {day} tarihinde yenilenecek. Paket değişikliği "
            "isterseniz yenilemeden önce bize bildirin.\n")
