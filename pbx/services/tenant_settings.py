"""A tenant's own settings (GET|PATCH /tenants/{tid}/settings): what its admin changes without
an operator. Only the recording default of new extensions and the KVKK recording notice; the
plan, quotas and limits stay the operator's (PATCH /tenants/{tid})."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Tenant
from pbx.db.unit import Unit
from pbx.domain.plans import PLANS, require_feature
from pbx.services.tenants import lock_tenant, visible_tenant
from pbx.services.tokens import Principal

FIELDS = ("record_calls", "recording_notice")


def settings_of(tenant: Tenant) -> dict:
    return {name: getattr(tenant, name) for name in FIELDS}


async def read_settings(session: AsyncSession, principal: Principal, tenant_id: int) -> Tenant:
    return await visible_tenant(session, principal, tenant_id)


async def update_settings(unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Tenant:
    """record_calls (the default of new extensions; existing ones keep theirs) needs a plan
    that records (403 feature_not_in_plan, nothing changed). The tenant row is locked first
    and read again, so a plan change committed meanwhile is the plan judged here."""
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    await lock_tenant(unit.session, tenant_id)
    await unit.session.refresh(tenant)
    if fields.get("record_calls"):
        require_feature(PLANS[tenant.plan], "recording")
    for name in FIELDS:
        if name in fields:
            setattr(tenant, name, fields[name])
    return tenant
