"""The price catalogue, read from prices.toml: plain frozen data, so every price rule is
a pure function over it (pbx/billing/circuits.py, invoice.py)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pbx.billing.money import parse_amount

DEFAULT_PATH = Path(__file__).with_name("prices.toml")


@dataclass(frozen=True)
class CircuitBand:
    first: int
    last: int | None  # None: no upper end
    unit: Decimal


@dataclass(frozen=True)
class CircuitTariff:
    flat_up_to: int
    flat_fee: Decimal
    bands: tuple[CircuitBand, ...]


@dataclass(frozen=True)
class Catalogue:
    currency: str
    kdv_rate: Decimal
    extra_extension_monthly: Decimal
    plan_monthly: dict[str, Decimal]  # enterprise is absent: priced per tenant
    circuits: CircuitTariff
    trial_days: int
    commitment_months: int


def load(path: Path = DEFAULT_PATH) -> Catalogue:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    circuits = raw["circuits"]
    return Catalogue(
        currency=raw["currency"],
        kdv_rate=parse_amount(raw["kdv_rate"]),
        extra_extension_monthly=parse_amount(raw["extra_extension_monthly"]),
        plan_monthly={code: parse_amount(price) for code, price in raw["plans"].items()},
        circuits=CircuitTariff(
            circuits["flat_up_to"], parse_amount(circuits["flat_fee"]),
            tuple(CircuitBand(b["from"], b.get("to"), parse_amount(b["unit"])) for b in circuits["bands"])),
        trial_days=raw["trial_days"],
        commitment_months=raw["commitment_months"],
    )
