"""International per-minute rates by destination: the operator loads them from CSV; a
call is rated by the longest E.164 prefix that matches its number.

The CSV is hostile input until proven otherwise: bounded size and rows, UTF-8, the
exact header, digits-only prefixes, no duplicates, decimal rates with at most four
places, and destination names that are printable, without bidi or zero-width
characters and without a leading spreadsheet-formula character (`= + - @`), since
they are shown in panels and exported. Every problem is reported by line; nothing is
loaded unless every row is good."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from pbx.billing.money import parse_amount

MAX_CSV_BYTES = 1024 * 1024
MAX_ROWS = 20_000
HEADER = ["prefix", "destination", "per_minute"]
_PREFIX = re.compile(r"\+?[1-9][0-9]{0,14}")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_FORMULA_START = ("=", "+", "-", "@")
MAX_ERRORS = 20


@dataclass(frozen=True)
class Rate:
    prefix: str  # E.164 digits without "+"
    destination: str
    per_minute: Decimal


class RateCsvError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems[:MAX_ERRORS]))
        self.problems = problems


def parse_rates(data: bytes) -> list[Rate]:
    if len(data) > MAX_CSV_BYTES:
        raise RateCsvError([f"the file is larger than {MAX_CSV_BYTES} bytes"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RateCsvError([f"not UTF-8 (byte {exc.start})"]) from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise RateCsvError([f"not CSV: {exc}"]) from exc
    if not rows or [cell.strip() for cell in rows[0]] != HEADER:
        raise RateCsvError([f"the first line must be {','.join(HEADER)}"])
    if len(rows) - 1 > MAX_ROWS:
        raise RateCsvError([f"at most {MAX_ROWS} rates"])
    return _rates(rows[1:])


def _rates(rows: list[list[str]]) -> list[Rate]:
    rates, problems, seen = [], [], set()
    for line, cells in enumerate(rows, start=2):
        try:
            rate = _rate(cells)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if rate.prefix in seen:
            problems.append(f"line {line}: prefix {rate.prefix} appears twice")
        seen.add(rate.prefix)
        rates.append(rate)
    if problems:
        raise RateCsvError(problems)
    if not rates:
        raise RateCsvError(["no rates in the file"])
    return rates


def _rate(cells: list[str]) -> Rate:
    if len(cells) != 3:
        raise ValueError(f"expected 3 columns, found {len(cells)}")
    prefix, destination, per_minute = (cell.strip() for cell in cells)
    if not _PREFIX.fullmatch(prefix):
        raise ValueError("prefix: 1 to 15 digits of an E.164 number (country code first)")
    if not destination or len(destination) > 100 or _UNPRINTABLE.search(destination):
        raise ValueError("destination: 1 to 100 printable characters")
    if destination.startswith(_FORMULA_START):
        raise ValueError("destination must not start with = + - @ (a spreadsheet formula)")
    amount = parse_amount(per_minute, places=4)
    if amount > 1000:
        raise ValueError("per_minute: at most 1000 TL")
    return Rate(prefix.removeprefix("+"), destination, amount)


class RateTable:
    """Longest matching prefix: +4420... finds "4420" (London) before "44" (UK)."""

    def __init__(self, rates: list[Rate]):
        self._by_prefix = {rate.prefix: rate for rate in rates}
        self._longest = max((len(p) for p in self._by_prefix), default=0)

    def lookup(self, e164: str) -> Rate | None:
        digits = e164.removeprefix("+")
        for length in range(min(len(digits), self._longest), 0, -1):
            if (rate := self._by_prefix.get(digits[:length])) is not None:
                return rate
        return None
