"""What a tenant's complaint is about: a fixed list, so the monthly report can count them
(a title is free text). Each reason with its Turkish and English label (report, OpenAPI)."""
from __future__ import annotations

from typing import Literal

REASONS: dict[str, tuple[str, str]] = {
    "ses_kalitesi": ("Ses kalitesi", "Voice quality"),
    "arama_dusmesi": ("Arama düşmesi", "Dropped calls"),
    "ulasilamama": ("Ulaşılamama", "Cannot be reached"),
    "numara_tasima": ("Numara taşıma", "Number porting"),
    "fatura": ("Fatura", "Billing"),
    "diger": ("Diğer", "Other"),
}
NOT_GIVEN = ("Belirtilmemiş", "Not given")  # a complaint made without a reason
Reason = Literal[tuple(REASONS)]  # type: ignore[valid-type]


def label(reason: str | None) -> tuple[str, str]:
    return REASONS.get(reason, NOT_GIVEN) if reason else NOT_GIVEN


def count(reasons: list[str | None]) -> list[dict]:
    """Complaints per reason, most first (then in the list's order); unlisted reasons are none."""
    order = [*REASONS, None]
    counts = {r: 0 for r in order}
    for reason in reasons:
        counts[reason if reason in REASONS else None] += 1
    rows = [(r, n) for r, n in counts.items() if n]
    rows.sort(key=lambda row: (-row[1], order.index(row[0])))
    return [{"reason": r, "label_tr": label(r)[0], "label_en": label(r)[1], "faults": n} for r, n in rows]
