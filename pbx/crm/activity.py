"""What the provider modules share: the words a logged call gets (the same subject, text and
local date whichever CRM the tenant has), the checks on what they send (a number worth
searching, a base or token URL), how an OAuth provider's refused token is taken again, and
how a provider's error is raised (pbx/crm/errors.py's ProviderError, a CrmError like every
provider's)."""
from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import aiohttp

from pbx.crm.base import CallLog
from pbx.crm.errors import ProviderError

TENANT_ZONE = ZoneInfo("Europe/Istanbul")
# Far longer than any dialable number (E.164 is at most 15 digits): not worth a request.
MAX_NUMBER_LENGTH = 64

_SUBJECTS = {"inbound": "Gelen arama", "outbound": "Giden arama"}
_OUTCOMES = {"ANSWERED": "cevaplandı", "NO ANSWER": "cevapsız", "BUSY": "meşgul", "FAILED": "başarısız"}


def searchable(number: str | None) -> bool:
    """A caller id worth looking up: some digit in it, and not absurdly long. Anything else
    ("anonymous", an empty caller id) cannot match a phone field."""
    return bool(number) and len(number) <= MAX_NUMBER_LENGTH and any(c.isdigit() for c in number)


def party_number(call: CallLog) -> str | None:
    """The outside party's number: who called in, or who was called. Internal calls have none."""
    if call.direction == "inbound":
        return call.caller
    if call.direction == "outbound":
        return call.callee
    return None


def subject(call: CallLog, number: str) -> str:
    # Asterisk's "NO ANSWER" or the API's "no_answer": the same outcome.
    disposition = call.disposition.upper().replace("_", " ")
    outcome = _OUTCOMES.get(disposition, call.disposition.lower())
    return f"{_SUBJECTS.get(call.direction, 'Arama')} {number} ({outcome})"


def description(call: CallLog) -> str:
    started = local_time(call.started_at).strftime("%d.%m.%Y %H:%M:%S")
    lines = [f"Başlangıç: {started}", f"Süre: {call.duration_s} sn"]
    if call.extension:
        lines.append(f"Dahili: {call.extension}")
    lines.append(f"Santral çağrı no: {call.call_id}")
    return "\n".join(lines)


def local_time(moment: datetime) -> datetime:
    """A naive time is taken as UTC (as the call records store it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(TENANT_ZONE)


def money(value) -> str | None:
    """A currency amount as the contract's decimal string with two places."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def text(value) -> str | None:
    """A field shown to the agent: kept as the CRM holds it (plain data, never markup), only
    non-strings are dropped so a malformed answer cannot put a dict on the screen."""
    return value if isinstance(value, str) else None


def checked_url(url: str, what: str) -> str:
    """A base or token URL from the tenant's settings or a provider's answer: http(s) only, no
    credentials or fragments in it."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", url or ""):
        raise ValueError(f"{what} is not an http(s) URL: {url!r}")
    return url.rstrip("/")


async def json_answer(response: aiohttp.ClientResponse, error_code: Callable[[object], object]) -> dict:
    """The JSON object of a 2xx answer ({} for 204 No Content); else a ProviderError with the
    code `error_code` finds in the provider's error body."""
    if response.status < 400:
        if response.status == 204:
            return {}
        answer = await response.json()
        return answer if isinstance(answer, dict) else {}
    body = await response.text()
    try:
        code = error_code(json.loads(body))
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        code = None
    raise ProviderError(response, body, code if isinstance(code, str) else None)


async def with_bearer(send: Callable[[str], AbstractAsyncContextManager[aiohttp.ClientResponse]], token: str,
                      renew: Callable[[str], Awaitable[str]],
                      answer: Callable[[aiohttp.ClientResponse], Awaitable[dict]]) -> dict:
    """`send(token)`'s answer, read by `answer`; a 401 takes a new token (`renew(refused)`,
    which renews once for concurrent requests that met the same one) and sends once more."""
    for attempt in range(2):
        async with send(token) as response:
            if response.status != 401 or attempt:
                return await answer(response)
        token = await renew(token)
    raise AssertionError("unreachable")
