"""Numbers (DIDs): one tenant each, stored in E.164, each with a destination; a tenant
routes only numbers allocated to it (number_allocations.py)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Number
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict
from pbx.domain.numbers import to_e164
from pbx.services import destination_checks, number_allocations
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal


async def list_numbers(session: AsyncSession, principal: Principal, tenant_id: int) -> list[Number]:
    return await scoped_list(session, principal, Number, tenant_id)


async def get_number(session: AsyncSession, principal: Principal, tenant_id: int, number_id: int) -> Number:
    return await scoped_get(session, principal, Number, tenant_id, number_id, "number")


async def create_number(unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Number:
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    e164 = to_e164(fields["number"])
    stored = await destination_checks.validate(unit.session, tenant, fields["destination"])
    await number_allocations.require_allocated(unit, principal, tenant_id, e164)
    if await unit.session.scalar(select(Number.id).where(Number.number == e164)):
        raise Conflict(f"{e164} is already routed")
    row = Number(tenant_id=tenant_id, number=e164, destination=stored)
    unit.session.add(row)
    try:
        await unit.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{e164} is already routed") from exc
    return row


async def update_number(unit: Unit, principal: Principal, tenant_id: int, number_id: int, fields: dict) -> Number:
    row = await get_number(unit.session, principal, tenant_id, number_id)
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    row.destination = await destination_checks.validate(unit.session, tenant, fields["destination"])
    return row


async def delete_number(unit: Unit, principal: Principal, tenant_id: int, number_id: int) -> None:
    await unit.session.delete(await get_number(unit.session, principal, tenant_id, number_id))
