"""The one small interface every CRM provider module implements (hubspot.py, zoho.py,
salesforce.py, dynamics.py), and the phone-number forms a CRM may hold a number in.

A connector only speaks its provider's documented REST API over the aiohttp session it
is given; timeouts, the short cache and the circuit breaker are the caller's
(pbx/crm/lookup.py), so every provider gets the same protection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiohttp


@dataclass(frozen=True)
class Order:
    id: str
    date: str | None  # ISO 8601 date (or date-time) as the CRM gives it
    total: str | None  # decimal string with two places (activity.money), whichever CRM
    status: str | None

    def as_dict(self) -> dict:
        return {"id": self.id, "date": self.date, "total": self.total, "status": self.status}


@dataclass(frozen=True)
class Contact:
    """What call.ringing carries as `contact` (the contract's CRM section). Plain data:
    names are shown as text, never as markup."""
    name: str
    company: str | None
    last_order: Order | None
    url: str | None  # the record in the CRM's own UI, where the provider has one

    def as_dict(self) -> dict:
        return {"name": self.name, "company": self.company,
                "last_order": self.last_order.as_dict() if self.last_order else None, "url": self.url}


@dataclass(frozen=True)
class CallLog:
    """A finished call, logged back to the CRM as a call activity."""
    call_id: str
    direction: str  # inbound | outbound | internal
    caller: str | None
    callee: str | None
    started_at: datetime
    duration_s: int
    disposition: str  # ANSWERED | NO ANSWER | BUSY | FAILED
    extension: str | None
    contact_ref: str | None = None  # the provider's id of the matched contact, when known


class Connector(Protocol):
    """One provider, made by its module's `connect(base_url, credentials)`.

    Each provider module (pbx/crm/<provider>.py) exposes:
    - `PROVIDER` ("hubspot" | "zoho" | "salesforce" | "dynamics") and `DEFAULT_BASE_URL`
      (the provider's public API; a tenant's base_url replaces it for a sandbox or a test server);
    - `REQUIRED_CREDENTIALS`: the credential keys it needs (checked when they are saved: 422);
    - `connect(base_url: str, credentials: dict) -> Connector`.

    `credentials` is the decrypted dict the tenant saved. A connector that refreshes an
    OAuth access token keeps the new one in `credentials` and sets `credentials_changed`,
    so the caller stores them (encrypted) again."""

    provider: str
    credentials: dict
    credentials_changed: bool

    async def lookup(self, http: aiohttp.ClientSession, number: str) -> Contact | None: ...

    async def log_call(self, http: aiohttp.ClientSession, call: CallLog) -> None: ...


def number_forms(e164: str) -> list[str]:
    """+905321234567 -> the spellings a Turkish CRM record may hold: E.164, without the
    plus, national with 0, and the national and E.164 forms with the usual spaces."""
    digits = e164.lstrip("+")
    forms = [e164 if e164.startswith("+") else "+" + digits, digits]
    if digits.startswith("90") and len(digits) == 12:
        national = "0" + digits[2:]
        n = digits[2:]
        forms += [national, n, f"0{n[:3]} {n[3:6]} {n[6:8]} {n[8:]}", f"0{n[:3]} {n[3:6]} {n[6:]}",
                  f"+90 {n[:3]} {n[3:6]} {n[6:8]} {n[8:]}", f"+90 {n[:3]} {n[3:6]} {n[6:]}"]
    return list(dict.fromkeys(forms))
