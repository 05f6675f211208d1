"""AGI handlers: gather the call's facts, ask the pure routing decision, apply it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from panoramisk.fast_agi import Request
from sqlalchemy import select

from pbx.agi import channelvars
from pbx.agi.server import set_variable
from pbx.db.models import Extension
from pbx.db.unit import Database
from pbx.routing.internal import Decision, Party, route_internal

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
            callee = None
            if caller is not None and _DIALLED.match(dialled):
                callee = await session.scalar(
                    select(Extension).where(Extension.tenant_id == caller.tenant_id, Extension.number == dialled)
                )
        return route_internal(_party(caller), _party(callee))


async def apply(request: Request, decision: Decision) -> None:
    if decision.tenant_id is not None:
        await set_variable(request, channelvars.TENANT, str(decision.tenant_id))
    if decision.action == "dial":
        await set_variable(request, channelvars.DIAL, decision.dial)
        await set_variable(request, channelvars.RING_SECONDS, str(decision.ring_seconds))
    # Set last: the dialplan treats a missing action as a failure.
    await set_variable(request, channelvars.ACTION, decision.action)
