"""Phone numbers in E.164. Input may be national (0850 123 45 67), 90... or +90..."""
from __future__ import annotations

import re

from pbx.domain.errors import Invalid

_SEPARATORS = re.compile(r"[ \-().]")
# One definition each, for the API, destinations, routing and the call filters: an
# extension number (2 to 6 digits; a leading 0 dials out) and what a caller may dial.
EXTENSION_NUMBER = re.compile(r"^[1-9][0-9]{1,5}$")
DIALLED = re.compile(r"^[0-9*#+]{1,32}$")


def to_e164(raw: str, country_code: str = "90") -> str:
    text = _SEPARATORS.sub("", raw.strip()) if isinstance(raw, str) else ""
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif text.startswith("0"):
        digits = country_code + text[1:]
    elif text.startswith(country_code) and len(text) == len(country_code) + 10:
        digits = text
    else:
        raise Invalid(f"not a phone number: {raw!r}")
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15 or digits[0] == "0":
        raise Invalid(f"not a phone number: {raw!r}")
    if digits.startswith(country_code) and len(digits) != len(country_code) + 10:
        raise Invalid(f"a Turkish number has 10 digits after the country code: {raw!r}")
    return "+" + digits
