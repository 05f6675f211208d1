"""IVR menus. An option that leads to another menu is an Enterprise feature."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Ivr, Prompt, Tenant
from pbx.db.unit import Unit
from pbx.domain import destinations as dests
from pbx.domain.errors import Conflict, FeatureNotInPlan, Invalid
from pbx.domain.plans import PLANS
from pbx.services import destinations
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal


async def list_ivrs(session: AsyncSession, principal: Principal, tenant_id: int) -> list[Ivr]:
    return await scoped_list(session, principal, Ivr, tenant_id)


async def get_ivr(session: AsyncSession, principal: Principal, tenant_id: int, ivr_id: int) -> Ivr:
    return await scoped_get(session, principal, Ivr, tenant_id, ivr_id, "IVR")


async def create_ivr(unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Ivr:
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    row = Ivr(tenant_id=tenant_id, **await _checked(unit.session, tenant, fields))
    unit.session.add(row)
    await unit.session.flush()
    return row


async def update_ivr(unit: Unit, principal: Principal, tenant_id: int, ivr_id: int, fields: dict) -> Ivr:
    row = await get_ivr(unit.session, principal, tenant_id, ivr_id)
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    for name, value in (await _checked(unit.session, tenant, fields)).items():
        setattr(row, name, value)
    return row


async def delete_ivr(unit: Unit, principal: Principal, tenant_id: int, ivr_id: int) -> None:
    row = await get_ivr(unit.session, principal, tenant_id, ivr_id)
    if used_by := await destinations.user_of(unit.session, tenant_id, "ivrs", ivr_id):
        raise Conflict(f"the IVR is still the destination of {used_by}")
    await unit.session.delete(row)


async def _checked(session: AsyncSession, tenant: Tenant, fields: dict) -> dict:
    checked = dict(fields)
    if "greeting_prompt_id" in fields:
        prompt = await session.scalar(select(Prompt.id).where(
            Prompt.tenant_id == tenant.id, Prompt.id == fields["greeting_prompt_id"]))
        if prompt is None:
            raise Invalid("greeting_prompt_id names a prompt that does not exist")
    if "options" in fields:
        checked["options"] = {key: await _option(session, tenant, dest) for key, dest in fields["options"].items()}
    if fields.get("timeout_destination") is not None:
        checked["timeout_destination"] = await _option(session, tenant, fields["timeout_destination"])
    return checked


async def _option(session: AsyncSession, tenant: Tenant, data) -> dict:
    stored = await destinations.validate(session, tenant, data)
    if dests.references(dests.parse(stored)).ivrs and not PLANS[tenant.plan].nested_ivr:
        raise FeatureNotInPlan(f"menus that lead to other menus are not part of the {tenant.plan} plan")
    return stored
