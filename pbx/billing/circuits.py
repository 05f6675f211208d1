"""Seed 001's graduated circuit tariff: a flat fee up to 50 circuits, then each circuit
above that at its own band's unit price (not the whole count at one band's price).
Billed on the month's maximum concurrent circuits, without proration."""
from __future__ import annotations

from decimal import Decimal

from pbx.billing.catalogue import CircuitTariff


def band_counts(tariff: CircuitTariff, circuits: int) -> list[tuple[int, Decimal]]:
    """(how many circuits fall in the band, its unit price) for each band reached."""
    counts = []
    for band in tariff.bands:
        top = circuits if band.last is None else min(circuits, band.last)
        if top >= band.first:
            counts.append((top - band.first + 1, band.unit))
    return counts


def circuit_charge(tariff: CircuitTariff, circuits: int) -> Decimal:
    """6,000 for 0–50; 120 -> 6,000 + 50·99 + 20·94 = 12,830."""
    if circuits < 0:
        raise ValueError("a circuit count is never negative")
    return tariff.flat_fee + sum((count * unit for count, unit in band_counts(tariff, circuits)), Decimal(0))
