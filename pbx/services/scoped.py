"""A kind of tenant-owned routing object (IVR menus, ring groups, schedules):
list, get, create, update and delete, all scoped to the tenant, with the kind's
own checks, and refusing to delete what calls are still routed to."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict
from pbx.services import destination_checks
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal

Check = Callable[[AsyncSession, Tenant, dict], Awaitable[dict]]


async def _unchanged(_session: AsyncSession, _tenant: Tenant, fields: dict) -> dict:
    return fields


@dataclass(frozen=True)
class ScopedKind:
    model: type
    what: str  # for messages: "IVR", "ring group"
    used_as: str  # the References field that names it in destinations: "ivrs", "ring_groups"
    check: Check = _unchanged  # validates fields against the tenant; returns what to store

    async def list(self, session: AsyncSession, principal: Principal, tenant_id: int) -> list:
        return await scoped_list(session, principal, self.model, tenant_id)

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int, object_id: int):
        return await scoped_get(session, principal, self.model, tenant_id, object_id, self.what)

    async def create(self, unit: Unit, principal: Principal, tenant_id: int, fields: dict):
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        row = self.model(tenant_id=tenant_id, **await self.check(unit.session, tenant, fields))
        unit.session.add(row)
        await unit.session.flush()
        return row

    async def update(self, unit: Unit, principal: Principal, tenant_id: int, object_id: int, fields: dict):
        row = await self.get(unit.session, principal, tenant_id, object_id)
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        for name, value in (await self.check(unit.session, tenant, fields)).items():
            setattr(row, name, value)
        return row

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, object_id: int) -> None:
        row = await self.get(unit.session, principal, tenant_id, object_id)
        if used_by := await destination_checks.user_of(unit.session, tenant_id, self.used_as, object_id):
            raise Conflict(f"the {self.what} is still used by {used_by}")
        await unit.session.delete(row)
