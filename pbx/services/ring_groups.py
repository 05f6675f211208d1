"""Ring groups: members must be the tenant's extensions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Extension, RingGroup, Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, Invalid
from pbx.services import destinations
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal


async def list_groups(session: AsyncSession, principal: Principal, tenant_id: int) -> list[RingGroup]:
    return await scoped_list(session, principal, RingGroup, tenant_id)


async def get_group(session: AsyncSession, principal: Principal, tenant_id: int, group_id: int) -> RingGroup:
    return await scoped_get(session, principal, RingGroup, tenant_id, group_id, "ring group")


async def create_group(unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> RingGroup:
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    row = RingGroup(tenant_id=tenant_id, **await _checked(unit.session, tenant, fields))
    unit.session.add(row)
    await unit.session.flush()
    return row


async def update_group(unit: Unit, principal: Principal, tenant_id: int, group_id: int, fields: dict) -> RingGroup:
    row = await get_group(unit.session, principal, tenant_id, group_id)
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    for name, value in (await _checked(unit.session, tenant, fields)).items():
        setattr(row, name, value)
    return row


async def delete_group(unit: Unit, principal: Principal, tenant_id: int, group_id: int) -> None:
    row = await get_group(unit.session, principal, tenant_id, group_id)
    if used_by := await destinations.user_of(unit.session, tenant_id, "ring_groups", group_id):
        raise Conflict(f"the ring group is still the destination of {used_by}")
    await unit.session.delete(row)


async def group_with_member(session: AsyncSession, tenant_id: int, number: str) -> str | None:
    for row in await session.scalars(select(RingGroup).where(RingGroup.tenant_id == tenant_id)):
        if number in row.extensions:
            return f"ring group {row.name!r}"
    return None


async def _checked(session: AsyncSession, tenant: Tenant, fields: dict) -> dict:
    checked = dict(fields)
    if "extensions" in fields:
        members = fields["extensions"]
        if len(set(members)) != len(members):
            raise Invalid("an extension is listed twice")
        found = set(await session.scalars(select(Extension.number).where(
            Extension.tenant_id == tenant.id, Extension.number.in_(members))))
        if missing := set(members) - found:
            raise Invalid(f"no such extensions: {', '.join(sorted(missing))}")
    if fields.get("next_destination") is not None:
        checked["next_destination"] = await destinations.validate(session, tenant, fields["next_destination"])
    return checked
