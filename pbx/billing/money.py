"""Money is Decimal, never float. One rounding rule, in one place:

Every amount that appears on an invoice (a line's amount, the subtotal, KDV, the total)
is rounded to kuruş (0.01 TL) half-up (ROUND_HALF_UP: 0.005 -> 0.01), as Turkish
invoices are. Lines are rounded first; the subtotal is the sum of rounded lines; KDV
is the rounded subtotal times the rate, rounded once; total = subtotal + KDV. So the
printed figures always add up."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

KURUS = Decimal("0.01")


def kurus(amount: Decimal) -> Decimal:
    return amount.quantize(KURUS, rounding=ROUND_HALF_UP)


def parse_amount(text: str, *, places: int = 2) -> Decimal:
    """A non-negative decimal with at most `places` decimals, or ValueError."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a non-negative amount: {text!r}")
    if -value.as_tuple().exponent > places:
        raise ValueError(f"at most {places} decimal places: {text!r}")
    if value > Decimal("1000000000"):
        raise ValueError(f"amount too large: {text!r}")
    return value


def text(amount: Decimal) -> str:
    """As the API writes it: two places, a dot, no thousands separator ("12830.00")."""
    return f"{kurus(amount):.2f}"
