"""Query parameters of the call and report endpoints, checked. Pure.

Times are RFC 3339 with an offset; a number is an extension number or a phone
number in any spelling to_e164 accepts; the cursor is opaque to clients.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from pbx.db.base import MAX_ID
from pbx.domain.errors import Invalid
from pbx.domain.numbers import EXTENSION_NUMBER, to_e164

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_CURSOR = re.compile(r"^(\d{1,17})\.(\d{1,10})$")


@dataclass(frozen=True)
class NumberFilter:
    value: str
    is_extension: bool


def parse_time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    if len(raw) > 40 or not _RFC3339.fullmatch(raw):
        raise Invalid(f"{name} must be an RFC 3339 time with an offset, e.g. 2026-11-23T09:00:00+03:00")
    fraction = re.search(r"\.(\d+)", raw)
    if fraction:  # Python takes at most microseconds
        raw = raw.replace(fraction.group(0), "." + fraction.group(1)[:6].ljust(6, "0"), 1)
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z").replace("t", "T")).astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"{name} is not a valid time") from exc
    if not 1970 <= moment.year <= 9000:  # keeps date arithmetic away from datetime's limits
        raise Invalid(f"{name} is out of range")
    return moment


def parse_range(raw_from: str | None, raw_to: str | None, *, default_days: int | None = None,
                max_days: int | None = None, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    start, end = parse_time(raw_from, "from"), parse_time(raw_to, "to")
    if default_days is not None:
        end = end or (now or datetime.now(timezone.utc))
        start = start or end - timedelta(days=default_days)
    if start and end and start > end:
        raise Invalid("from must not be after to")
    if max_days is not None and start and end and end - start > timedelta(days=max_days):
        raise Invalid(f"a report covers at most {max_days} days")
    return start, end


def parse_number(raw: str | None) -> NumberFilter | None:
    if raw is None:
        return None
    if len(raw) > 40:
        raise Invalid("number is too long")
    if EXTENSION_NUMBER.fullmatch(raw):
        return NumberFilter(raw, True)
    return NumberFilter(to_e164(raw), False)


def parse_limit(raw: str | None, default: int = 100, maximum: int = 500) -> int:
    if raw is None:
        return default
    if len(raw) > 4 or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise Invalid(f"limit must be 1..{maximum}")
    return int(raw)


def encode_cursor(started_at: datetime, call_id: int) -> str:
    micros = int(started_at.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"{micros}.{call_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if raw is None:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii") if len(raw) < 64 else ""
    except (ValueError, UnicodeDecodeError):
        text = ""
    match = _CURSOR.fullmatch(text)
    if not match or int(match.group(2)) > MAX_ID:
        raise Invalid("cursor is not one this API gave out")
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=int(match.group(1)))
    return moment, int(match.group(2))


def local_buckets(start: datetime, end: datetime, zone: tzinfo, step: str) -> list[tuple[str, datetime, datetime]]:
    """The days ("2026-11-23") or hours of day ("09") between start and end as the
    tenant's clock shows them, each as its UTC interval [from, to). Real hours are
    walked in UTC, so a day with a clock change has 23 or 25 of them."""
    buckets: list[tuple[str, datetime, datetime]] = []
    # From the tenant's last full hour, so hours follow its clock (also in +05:30 zones).
    moment = start.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    while moment < end:
        local = moment.astimezone(zone)
        label = local.strftime("%Y-%m-%d") if step == "day" else local.strftime("%H")
        following = moment + timedelta(hours=1)
        if step == "day" and buckets and buckets[-1][0] == label:
            buckets[-1] = (label, buckets[-1][1], min(following, end))
        else:
            buckets.append((label, max(moment, start), min(following, end)))
        moment = following
    return buckets
