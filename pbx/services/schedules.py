"""Schedules (business hours and holidays): a KOBİ and Enterprise feature."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Schedule
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, FeatureNotInPlan
from pbx.domain.plans import PLANS
from pbx.services import destinations
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal


async def list_schedules(session: AsyncSession, principal: Principal, tenant_id: int) -> list[Schedule]:
    return await scoped_list(session, principal, Schedule, tenant_id)


async def get_schedule(session: AsyncSession, principal: Principal, tenant_id: int, schedule_id: int) -> Schedule:
    return await scoped_get(session, principal, Schedule, tenant_id, schedule_id, "schedule")


async def create_schedule(unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Schedule:
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    if not PLANS[tenant.plan].schedules:
        raise FeatureNotInPlan(f"schedules are not part of the {tenant.plan} plan")
    row = Schedule(tenant_id=tenant_id, **fields)
    unit.session.add(row)
    await unit.session.flush()
    return row


async def update_schedule(unit: Unit, principal: Principal, tenant_id: int, schedule_id: int,
                          fields: dict) -> Schedule:
    row = await get_schedule(unit.session, principal, tenant_id, schedule_id)
    for name, value in fields.items():
        setattr(row, name, value)
    return row


async def delete_schedule(unit: Unit, principal: Principal, tenant_id: int, schedule_id: int) -> None:
    row = await get_schedule(unit.session, principal, tenant_id, schedule_id)
    if used_by := await destinations.user_of(unit.session, tenant_id, "schedules", schedule_id):
        raise Conflict(f"the schedule is still used by {used_by}")
    await unit.session.delete(row)
