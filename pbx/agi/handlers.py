"""AGI handlers: gather the call's facts, ask the pure routing decision, apply it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from panoramisk.fast_agi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.agi import channelvars
from pbx.agi.server import set_variable
from pbx.asterisk import configgen
from pbx.db.models import Extension, Number, Prompt, Trunk
from pbx.db.unit import Database
from pbx.domain import destinations
from pbx.domain.errors import Invalid
from pbx.domain.numbers import to_e164
from pbx.routing.destinations import Resolved, route_destination
from pbx.routing.internal import FAILURE, Decision, Party, route_internal

_DIALLED = re.compile(r"^[0-9*#+]{1,32}$")
_SIP_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def _party(row: Extension | None) -> Party | None:
    return Party(row.tenant_id, row.number, row.sip_username) if row else None


@dataclass
class RouteHandler:
    database: Database

    async def __call__(self, request: Request) -> None:
        caller_id = request.headers.get("agi_arg_1", "")
        dialled = request.headers.get("agi_extension", "")
        decision = await self.decide(caller_id, dialled)
        await apply(request, decision)

    async def decide(self, caller_id: str, dialled: str) -> Decision:
        if not _SIP_ID.match(caller_id):
            return route_internal(None, None)
        async with self.database.read() as session:
            caller = await session.scalar(select(Extension).where(Extension.sip_username == caller_id))
            if caller is None or not _DIALLED.match(dialled):
                return route_internal(_party(caller), None)
            callee = await session.scalar(
                select(Extension).where(Extension.tenant_id == caller.tenant_id, Extension.number == dialled)
            )
            if callee is None and (number := await _own_number(session, caller.tenant_id, dialled)):
                return await decide_destination(session, number)
        return route_internal(_party(caller), _party(callee))


@dataclass
class InboundHandler:
    """Calls from a trunk: the number in the request URI decides, whichever tenant holds it."""

    database: Database

    async def __call__(self, request: Request) -> None:
        decision = await self.decide(request.headers.get("agi_arg_1", ""), request.headers.get("agi_extension", ""))
        await apply(request, decision)

    async def decide(self, trunk_id: str, dialled: str) -> Decision:
        if not _SIP_ID.match(trunk_id) or not _DIALLED.match(dialled):
            return FAILURE
        try:
            e164 = to_e164(dialled)
        except Invalid:
            return Decision("unknown")
        async with self.database.read() as session:
            if await session.scalar(select(Trunk.id).where(Trunk.sip_id == trunk_id)) is None:
                return FAILURE
            number = await session.scalar(select(Number).where(Number.number == e164))
            if number is None:
                return Decision("unknown")
            return await decide_destination(session, number)


async def _own_number(session: AsyncSession, tenant_id: int, dialled: str) -> Number | None:
    """Dialling the tenant's own public number from inside reaches its destination directly."""
    try:
        e164 = to_e164(dialled)
    except Invalid:
        return None
    return await session.scalar(select(Number).where(Number.tenant_id == tenant_id, Number.number == e164))


async def decide_destination(session: AsyncSession, number: Number) -> Decision:
    dest = destinations.parse(number.destination)
    return route_destination(dest, await resolve(session, number.tenant_id, dest), number.tenant_id)


async def resolve(session: AsyncSession, tenant_id: int, dest) -> Resolved:
    """Loads only what the destination names, scoped to the tenant."""
    refs = destinations.references(dest)
    extensions, prompts = {}, {}
    if refs.extensions:
        rows = await session.execute(select(Extension.number, Extension.sip_username).where(
            Extension.tenant_id == tenant_id, Extension.number.in_(refs.extensions)))
        extensions = dict(rows.all())
    if refs.prompts:
        rows = await session.execute(select(Prompt.id, Prompt.file_id).where(
            Prompt.tenant_id == tenant_id, Prompt.id.in_(refs.prompts)))
        prompts = {pid: f"{configgen.AUDIO}/{tenant_id}/{file_id}" for pid, file_id in rows.all()}
    return Resolved(extensions, prompts)


async def apply(request: Request, decision: Decision) -> None:
    if decision.tenant_id is not None:
        await set_variable(request, channelvars.TENANT, str(decision.tenant_id))
    if decision.action == "dial":
        await set_variable(request, channelvars.DIAL, decision.dial)
        await set_variable(request, channelvars.RING_SECONDS, str(decision.ring_seconds))
    if decision.playback:
        await set_variable(request, channelvars.PLAYBACK, decision.playback)
    # Set last: the dialplan treats a missing action as a failure.
    await set_variable(request, channelvars.ACTION, decision.action)
