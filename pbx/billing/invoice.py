"""A month's invoice as pure arithmetic over plain facts: what the tenant bought, what it
used, and the catalogue. Lines are rounded to kuruş one by one (pbx/billing/money.py).

- Plan: the catalogue's monthly price; Enterprise the price agreed for the tenant;
  with circuit pricing, seed 001's tariff on the month's maximum circuits instead.
  A month inside the free trial costs nothing.
- Extra extensions: the month's maximum number bought (`extra_extensions`), each a full
  month (no proration, like the circuits).
- International calls: each answered call is billed by started minute
  (ceil(billsec / 60): 61 s is 2 minutes, 0 s is free) at its destination's rate;
  one line per destination, its amount the sum of the per-call amounts."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from pbx.billing.catalogue import Catalogue
from pbx.billing.circuits import band_counts, circuit_charge
from pbx.billing.money import kurus
from pbx.billing.rates import RateTable

PLAN_NAMES = {"girisimci": "Girişimci", "kobi": "KOBİ", "enterprise": "Enterprise"}


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Usage:
    plan: str
    extra_extensions: int = 0
    max_circuits: int = 0
    circuit_pricing: bool = False
    enterprise_monthly: Decimal | None = None
    in_trial: bool = False
    international_calls: list[tuple[str, int]] = field(default_factory=list)  # (E.164, billsec)


@dataclass(frozen=True)
class Totals:
    lines: list[Line]
    subtotal: Decimal
    kdv: Decimal
    total: Decimal


def billed_minutes(billsec: int) -> int:
    return math.ceil(max(billsec, 0) / 60)


def totals(lines: list[Line], kdv_rate: Decimal) -> Totals:
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    kdv = kurus(subtotal * kdv_rate)
    return Totals(lines, kurus(subtotal), kdv, kurus(subtotal + kdv))


def invoice(catalogue: Catalogue, usage: Usage, rates: RateTable) -> Totals:
    lines = circuit_lines(catalogue, usage.max_circuits) if usage.circuit_pricing else [plan_line(catalogue, usage)]
    if usage.extra_extensions:
        unit = catalogue.extra_extension_monthly
        lines.append(Line("Ek dahili hat", Decimal(usage.extra_extensions), unit, kurus(unit * usage.extra_extensions)))
    lines += international_lines(usage.international_calls, rates)
    if usage.in_trial:
        lines = [Line(line.description + " (ücretsiz deneme)", line.quantity, line.unit_price, Decimal("0.00"))
                 for line in lines]
    return totals(lines, catalogue.kdv_rate)


def circuit_lines(catalogue: Catalogue, circuits: int) -> list[Line]:
    """One line per band reached, so the lines add up to circuit_charge exactly."""
    tariff = catalogue.circuits
    lines = [Line(f"Devre 0–{tariff.flat_up_to} (sabit; ayın en yüksek devre sayısı {circuits})", Decimal(1),
                  tariff.flat_fee, kurus(tariff.flat_fee))]
    for band, (count, unit) in zip(tariff.bands, band_counts(tariff, circuits)):
        span = f"{band.first}–{band.last}" if band.last is not None else f"{band.first}+"
        lines.append(Line(f"Devre {span}", Decimal(count), unit, kurus(unit * count)))
    assert sum(line.amount for line in lines) == kurus(circuit_charge(tariff, circuits))
    return lines


def plan_line(catalogue: Catalogue, usage: Usage) -> Line:
    price = catalogue.plan_monthly.get(usage.plan) if usage.plan != "enterprise" else usage.enterprise_monthly
    if price is None:
        raise ValueError(f"no price for the {usage.plan} plan of this tenant")
    return Line(f"{PLAN_NAMES[usage.plan]} paketi aylık ücreti", Decimal(1), price, kurus(price))


def international_lines(calls: list[tuple[str, int]], rates: RateTable) -> list[Line]:
    minutes: dict[str, int] = defaultdict(int)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    found = {}
    for number, billsec in calls:
        rate = rates.lookup(number)
        if rate is None or billed_minutes(billsec) == 0:
            continue  # no rate: not billable here (the operator loads one; the call is still in the records)
        found[rate.prefix] = rate
        minutes[rate.prefix] += billed_minutes(billsec)
        amounts[rate.prefix] += kurus(rate.per_minute * billed_minutes(billsec))
    return [Line(f"Uluslararası arama: {found[p].destination} (+{p}, dakika)", Decimal(minutes[p]),
                 found[p].per_minute, amounts[p]) for p in sorted(found)]
