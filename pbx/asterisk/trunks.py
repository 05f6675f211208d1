"""A trunk's PJSIP realtime rows: endpoint (no auth: identified by address), a static
AOR contact to send calls to, and the identify row that matches its addresses."""
from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk.endpoints import TRANSPORT
from pbx.db.realtime import PsAor, PsEndpoint, PsEndpointIdIp

INBOUND_CONTEXT = "pbx-inbound"
TRUNK_CODECS = "ulaw,alaw,g722"


def _contact(host: str, port: int) -> str:
    return f"sip:{host}:{port}"


# Every column explicit (Asterisk logs an error for each NULL it parses): its own defaults.
AOR_VALUES = {"max_contacts": 1, "qualify_frequency": 0, "remove_existing": "no", "default_expiration": 3600,
              "minimum_expiration": 60, "maximum_expiration": 7200}


def add_rows(session: AsyncSession, sip_id: str, host: str, port: int, match: list[str]) -> None:
    session.add(PsAor(id=sip_id, contact=_contact(host, port), **AOR_VALUES))
    session.add(PsEndpoint(
        id=sip_id, transport=TRANSPORT, aors=sip_id, context=INBOUND_CONTEXT, disallow="all",
        allow=TRUNK_CODECS, direct_media="no", dtmf_mode="rfc4733", rtp_symmetric="yes",
        force_rport="yes", rewrite_contact="no", language="en",
    ))
    session.add(PsEndpointIdIp(id=sip_id, endpoint=sip_id, match=",".join(match)))


async def update_rows(session: AsyncSession, sip_id: str, host: str, port: int, match: list[str]) -> None:
    (await session.get(PsAor, sip_id)).contact = _contact(host, port)
    (await session.get(PsEndpointIdIp, sip_id)).match = ",".join(match)


async def delete_rows(session: AsyncSession, sip_id: str) -> None:
    for table in (PsEndpointIdIp, PsEndpoint, PsAor):
        await session.execute(delete(table).where(table.id == sip_id))
