"""AGI handlers: gather the call's facts, ask the pure routing decision, apply it."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from panoramisk.fast_agi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.agi import channelvars
from pbx.agi.server import set_variable
from pbx.db.models import Extension, Ivr, Number, RingGroup, Tenant, Trunk
from pbx.db.unit import Database
from pbx.domain import destinations
from pbx.domain.errors import Invalid
from pbx.domain.numbers import to_e164
from pbx.routing import ivr, outbound
from pbx.routing.destinations import route_destination
from pbx.routing.internal import FAILURE, Decision, Party, route_internal
from pbx.services.resolver import decide_destination, menu_of, resolve
from pbx.services.voicemail import VoicemailService

_DIALLED = re.compile(r"^[0-9*#+]{1,32}$")
_SIP_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_KEY = re.compile(r"^[0-9*#]?$")


def _party(row: Extension | None) -> Party | None:
    return Party(row.tenant_id, row.number, row.sip_username, row.id, row.voicemail) if row else None


@dataclass
class RouteHandler:
    database: Database
    voicemail: VoicemailService

    async def __call__(self, request: Request) -> None:
        caller_id = request.headers.get("agi_arg_1", "")
        dialled = request.headers.get("agi_extension", "")
        decision = await self.decide(caller_id, dialled)
        await apply(request, decision, self.voicemail)

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
            if callee is None and outbound.is_outbound(dialled):
                return await _decide_outbound(session, caller.tenant_id, dialled)
        return route_internal(_party(caller), _party(callee))


async def _decide_outbound(session: AsyncSession, tenant_id: int, dialled: str) -> Decision:
    tenant = await session.get(Tenant, tenant_id)
    caller_id = await session.scalar(select(Number.number).where(Number.tenant_id == tenant_id).order_by(Number.id))
    trunk = await session.scalar(select(Trunk.sip_id).where(Trunk.default_outbound.is_(True)))
    caller = outbound.Caller(tenant_id, tenant.international_calls, caller_id)
    return outbound.route_outbound(dialled, caller, trunk)


@dataclass
class InboundHandler:
    """Calls from a trunk: the number in the request URI decides, whichever tenant holds it."""

    database: Database
    voicemail: VoicemailService

    async def __call__(self, request: Request) -> None:
        decision = await self.decide(request.headers.get("agi_arg_1", ""), request.headers.get("agi_extension", ""))
        await apply(request, decision, self.voicemail)

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


@dataclass
class AfterHandler:
    """An unanswered call goes on: "rg:<id>" to the ring group's next destination,
    "vm:<extension id>" to that extension's voicemail. Args: tenant, what next."""

    database: Database
    voicemail: VoicemailService

    async def __call__(self, request: Request) -> None:
        args = [request.headers.get(f"agi_arg_{i}", "") for i in (1, 2)]
        await apply(request, await self.decide(*args), self.voicemail)

    async def decide(self, tenant_id: str, after: str) -> Decision:
        kind, _, ident = after.partition(":")
        if not (tenant_id.isdigit() and ident.isdigit()):
            return FAILURE
        if kind == "vm":
            return Decision("voicemail", tenant_id=int(tenant_id), voicemail_ext=int(ident))
        async with self.database.read() as session:
            row = await session.scalar(select(RingGroup).where(
                RingGroup.tenant_id == int(tenant_id), RingGroup.id == int(ident)))
            if kind != "rg" or row is None or row.next_destination is None:
                return Decision("hangup", tenant_id=int(tenant_id))
            dest = destinations.parse(row.next_destination)
            return route_destination(dest, await resolve(session, row.tenant_id, dest), row.tenant_id)


@dataclass
class IvrHandler:
    """A key pressed (or none) in a menu: arguments tenant, IVR, attempt, key."""

    database: Database
    voicemail: VoicemailService

    async def __call__(self, request: Request) -> None:
        args = [request.headers.get(f"agi_arg_{i}", "") for i in range(1, 5)]
        await apply(request, await self.decide(*args), self.voicemail)

    async def decide(self, tenant_id: str, ivr_id: str, attempt: str, key: str) -> Decision:
        if not (tenant_id.isdigit() and ivr_id.isdigit() and attempt.isdigit()) or not _KEY.match(key):
            return FAILURE
        async with self.database.read() as session:
            row = await session.scalar(select(Ivr).where(Ivr.tenant_id == int(tenant_id), Ivr.id == int(ivr_id)))
            if row is None:
                return FAILURE
            plain = menu_of(row)
            resolved = await resolve(session, row.tenant_id, destinations.parse({"type": "ivr", "ivr_id": row.id}),
                                     *plain.options.values(), plain.timeout_destination)
        choice = ivr.choose(resolved.menus[row.id], key, int(attempt))
        if isinstance(choice, Decision):
            return choice
        return route_destination(choice, resolved, row.tenant_id)


async def apply(request: Request, decision: Decision, voicemail: VoicemailService) -> None:
    if decision.action == "voicemail":
        caller = request.headers.get("agi_callerid", "")
        playback = await voicemail.start_message(decision.tenant_id, decision.voicemail_ext, caller)
        decision = replace(decision, playback=playback)
    if decision.tenant_id is not None:
        await set_variable(request, channelvars.TENANT, str(decision.tenant_id))
    if decision.dial:
        await set_variable(request, channelvars.DIAL, decision.dial)
        await set_variable(request, channelvars.RING_SECONDS, str(decision.ring_seconds))
    if decision.playback:
        await set_variable(request, channelvars.PLAYBACK, decision.playback)
    if decision.ivr_id is not None:
        await set_variable(request, channelvars.IVR, str(decision.ivr_id))
        await set_variable(request, channelvars.ATTEMPT, str(decision.attempt))
        await set_variable(request, channelvars.TIMEOUT, str(decision.timeout_s))
    await set_variable(request, channelvars.NOTICE, decision.notice)
    await set_variable(request, channelvars.AFTER, decision.after)
    if decision.caller_id:
        await set_variable(request, channelvars.CALLER_ID, decision.caller_id)
    # Set last: the dialplan treats a missing action as a failure.
    await set_variable(request, channelvars.ACTION, decision.action)
