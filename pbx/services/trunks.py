"""Trunks (carriers), operator-only. Committed rows are live in Asterisk at once."""
from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.asterisk import trunks as realtime
from pbx.db.models import Trunk
from pbx.db.unit import Unit
from pbx.domain.errors import NotFound
from pbx.services.tenants import require_operator
from pbx.services.tokens import Principal


async def list_trunks(session: AsyncSession, principal: Principal) -> list[Trunk]:
    require_operator(principal)
    return list(await session.scalars(select(Trunk).order_by(Trunk.id)))


async def get_trunk(session: AsyncSession, principal: Principal, trunk_id: int) -> Trunk:
    require_operator(principal)
    trunk = await session.get(Trunk, trunk_id)
    if trunk is None:
        raise NotFound("no such trunk")
    return trunk


async def create_trunk(unit: Unit, principal: Principal, fields: dict) -> Trunk:
    require_operator(principal)
    trunk = Trunk(sip_id=f"trunk-{secrets.token_hex(6)}", **fields)
    if trunk.default_outbound:
        await _clear_default(unit.session)
    unit.session.add(trunk)
    realtime.add_rows(unit.session, trunk.sip_id, trunk.match)
    await unit.session.flush()
    return trunk


async def update_trunk(unit: Unit, principal: Principal, trunk_id: int, fields: dict) -> Trunk:
    trunk = await get_trunk(unit.session, principal, trunk_id)
    if fields.get("default_outbound"):
        await _clear_default(unit.session)
    for name, value in fields.items():
        setattr(trunk, name, value)
    await realtime.update_rows(unit.session, trunk.sip_id, trunk.match)
    return trunk


async def delete_trunk(unit: Unit, principal: Principal, trunk_id: int) -> None:
    trunk = await get_trunk(unit.session, principal, trunk_id)
    await realtime.delete_rows(unit.session, trunk.sip_id)
    await unit.session.delete(trunk)


async def _clear_default(session: AsyncSession) -> None:
    await session.execute(update(Trunk).values(default_outbound=False))
