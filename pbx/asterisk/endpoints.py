"""An extension's PJSIP realtime rows (endpoint, auth, AOR). Committed rows are live:
Asterisk reads them on the next SIP request, with no reload."""
from __future__ import annotations

import hashlib
import re

from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.realtime import PsAor, PsAuth, PsEndpoint

INTERNAL_CONTEXT = "pbx-internal"
TRANSPORT = "transport-udp"
CODECS = "g722,ulaw,alaw"
# Quotes and angle brackets would end the display name early in Asterisk's parser;
# realtime drivers split values at ';' and decode '^XX' escapes.
_CALLERID_UNSAFE = re.compile(r'["\\<>;^\x00-\x1f\x7f]')


def md5_credential(username: str, realm: str, password: str) -> str:
    """What Asterisk needs to check a digest; the password itself is never stored."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def callerid(name: str, number: str) -> str:
    safe = _CALLERID_UNSAFE.sub("", name).strip()[:80]
    return f'"{safe}" <{number}>'


def aor_values() -> dict:
    """Every column of an extension's AOR row, explicit: Asterisk logs an error for each
    NULL it parses. One contact per phone, replaced on re-registration, so a dead contact
    never lingers and needs no qualify (OPTIONS pings: 0 is off)."""
    return {"max_contacts": 1, "remove_existing": "yes", "default_expiration": 300, "minimum_expiration": 60,
            "maximum_expiration": 3600, "qualify_frequency": 0, "support_path": "yes"}


def endpoint_values(behind_proxy: bool = False) -> dict:
    """The columns of an extension's endpoint row that are the same for every extension. No
    transport: Asterisk reaches a phone over the one it registered on (UDP or TLS); SRTP (SDES)
    where the phone offers it."""
    return {"context": INTERNAL_CONTEXT, "disallow": "all", "allow": CODECS, "direct_media": "no",
            "dtmf_mode": "rfc4733", "rtp_symmetric": "yes", "force_rport": "yes",
            # Behind a cluster's Kamailio every request comes from Kamailio: rewriting the phone's
            # Contact to that address would make Kamailio the phone (requests loop back to it).
            "rewrite_contact": "no" if behind_proxy else "yes",
            "language": "en", "media_encryption": "sdes", "media_encryption_optimistic": "yes"}


@dataclass(frozen=True)
class Account:
    sip_id: str
    password: str
    name: str
    number: str


async def add_rows(session: AsyncSession, realm: str, accounts: list[Account], *, behind_proxy: bool = False) -> None:
    """The accounts' auth, AOR and endpoint rows: one multi-row INSERT per table, so a
    bulk import costs three statements per batch rather than three per extension (the
    routing snapshot reads none of these tables)."""
    if not accounts:
        return
    await session.execute(insert(PsAuth), [
        dict(id=a.sip_id, auth_type="md5", username=a.sip_id, realm=realm,
             md5_cred=md5_credential(a.sip_id, realm, a.password)) for a in accounts])
    await session.execute(insert(PsAor), [dict(id=a.sip_id, **aor_values()) for a in accounts])
    await session.execute(insert(PsEndpoint), [
        dict(id=a.sip_id, aors=a.sip_id, auth=a.sip_id, callerid=callerid(a.name, a.number),
             **endpoint_values(behind_proxy))
        for a in accounts])


async def set_password(session: AsyncSession, sip_id: str, realm: str, password: str) -> None:
    auth = await session.get(PsAuth, sip_id)
    auth.md5_cred = md5_credential(sip_id, realm, password)
    auth.realm = realm


async def set_callerid(session: AsyncSession, sip_id: str, name: str, number: str) -> None:
    endpoint = await session.get(PsEndpoint, sip_id)
    endpoint.callerid = callerid(name, number)


async def delete_rows(session: AsyncSession, sip_id: str) -> None:
    for table in (PsEndpoint, PsAuth, PsAor):
        await session.execute(delete(table).where(table.id == sip_id))
