"""Number allocations: an operator gives a tenant a public number; only then may the
tenant route it. A small base for the number pool (billing adds ranges and prices).

To a tenant, a number that is free and one that another tenant holds look the same:
"not allocated to this tenant", so no one learns who holds what."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Number, NumberAllocation, Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict
from pbx.domain.numbers import to_e164
from pbx.services.tenants import (require_manager, require_operator, scoped_get, scoped_list, visible_tenant,
                                  visible_tenant_ids)
from pbx.services.tokens import Principal


async def list_allocations(session: AsyncSession, principal: Principal, tenant_id: int) -> list[NumberAllocation]:
    return await scoped_list(session, principal, NumberAllocation, tenant_id)


async def list_platform(session: AsyncSession, principal: Principal, after: str | None,
                        limit: int) -> list[tuple[NumberAllocation, str, bool]]:
    """Every allocation with its holder's name and whether the holder routes it, by number
    (after: the previous page's last). The operator's view; a reseller sees its customers'."""
    require_manager(principal)
    routed = (Number.number == NumberAllocation.number) & (Number.tenant_id == NumberAllocation.tenant_id)
    query = (select(NumberAllocation, Tenant.name, Number.id.is_not(None))
             .join(Tenant, Tenant.id == NumberAllocation.tenant_id).outerjoin(Number, routed)
             .order_by(NumberAllocation.number).limit(limit))
    if (ids := visible_tenant_ids(principal)) is not None:
        query = query.where(NumberAllocation.tenant_id.in_(ids))
    if after:
        query = query.where(NumberAllocation.number > after)
    return [tuple(row) for row in await session.execute(query)]


async def allocate(unit: Unit, principal: Principal, tenant_id: int, number: str) -> NumberAllocation:
    await visible_tenant(unit.session, principal, tenant_id)
    require_operator(principal)
    e164 = to_e164(number)
    if await unit.session.scalar(select(NumberAllocation.id).where(NumberAllocation.number == e164)):
        raise Conflict(f"{e164} is already allocated")
    row = NumberAllocation(tenant_id=tenant_id, number=e164)
    unit.session.add(row)
    try:
        await unit.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{e164} is already allocated") from exc
    return row


async def release(unit: Unit, principal: Principal, tenant_id: int, allocation_id: int) -> None:
    row = await scoped_get(unit.session, principal, NumberAllocation, tenant_id, allocation_id, "allocation")
    require_operator(principal)
    if await unit.session.scalar(select(Number.id).where(Number.number == row.number)):
        raise Conflict(f"{row.number} is still routed; delete the tenant's number first")
    await unit.session.delete(row)


async def require_allocated(unit: Unit, principal: Principal, tenant_id: int, e164: str) -> None:
    """Before a tenant routes a number. An operator's request allocates a free number
    on the way (an operator may do everything)."""
    holder = await unit.session.scalar(select(NumberAllocation.tenant_id).where(NumberAllocation.number == e164))
    if holder == tenant_id:
        return
    if not principal.is_operator:
        raise Conflict(f"{e164} is not allocated to this tenant; ask the operator for it")
    if holder is not None:
        raise Conflict(f"{e164} is allocated to another tenant")
    await allocate(unit, principal, tenant_id, e164)

