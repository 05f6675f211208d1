"""Tenants: every read is scoped to what the principal may see; a tenant's changes
that reach other owners' data are decided by TenantService."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.billing_tables import BillingAccount
from pbx.db.models import Extension, Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Forbidden, NotFound, PlanLimit
from pbx.domain.plans import PLANS, extension_limit, require_feature
from pbx.services.tokens import Principal

if TYPE_CHECKING:  # these services scope their reads with the helpers below
    from pbx.audio.store import PromptStore
    from pbx.recordings.service import RecordingService
    from pbx.services.extensions import ExtensionService
    from pbx.services.voicemail import VoicemailService


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("this needs an operator token")


def require_manager(principal: Principal) -> None:
    """Who may create tenants and their tokens: the operator, or a reseller for its own customers."""
    if principal.reseller_id is None:
        require_operator(principal)


async def visible_tenant(session: AsyncSession, principal: Principal, tenant_id: int) -> Tenant:
    """The tenant, or NotFound if it does not exist or is not the principal's (a reseller's:
    one of its customers)."""
    if principal.reseller_id is not None:
        if await session.scalar(select(BillingAccount.tenant_id).where(
                BillingAccount.tenant_id == tenant_id, BillingAccount.reseller_id == principal.reseller_id)) is None:
            raise NotFound("no such tenant")
    elif principal.tenant_id not in (None, tenant_id):
        raise NotFound("no such tenant")
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant


async def check_owner_visible(session: AsyncSession, principal: Principal, owner_id: int | None, what: str) -> None:
    """An object that names its tenant (None: the platform's own, the operator's alone):
    NotFound(no such <what>) unless the principal sees that tenant (a reseller: its customers)."""
    if principal.is_operator:
        return
    try:
        if owner_id is None:
            raise NotFound("no such tenant")
        await visible_tenant(session, principal, owner_id)
    except NotFound:
        raise NotFound(f"no such {what}") from None


async def visible_history(session: AsyncSession, principal: Principal, tenant_id: int) -> None:
    """Rows that outlive their tenant (access log, destruction records): a tenant sees
    its own; an operator also those of a deleted tenant, whose id no one gets again."""
    if not principal.is_operator:
        await visible_tenant(session, principal, tenant_id)


async def scoped_list(session: AsyncSession, principal: Principal, model, tenant_id: int) -> list:
    """All of a tenant's objects of one kind, if the principal may see the tenant."""
    await visible_tenant(session, principal, tenant_id)
    return list(await session.scalars(select(model).where(model.tenant_id == tenant_id).order_by(model.id)))


async def scoped_get(session: AsyncSession, principal: Principal, model, tenant_id: int, object_id: int,
                     what: str):
    """One object of a tenant's, or NotFound: another tenant's objects do not exist here."""
    await visible_tenant(session, principal, tenant_id)
    row = await session.scalar(select(model).where(model.tenant_id == tenant_id, model.id == object_id))
    if row is None:
        raise NotFound(f"no such {what}")
    return row


async def lock_tenant(session: AsyncSession, tenant_id: int) -> None:
    """Serialises quota-checked writes of one tenant: a no-op UPDATE takes SQLite's
    write lock (it waits instead of failing at commit) and PostgreSQL's row lock."""
    await session.execute(
        update(Tenant).where(Tenant.id == tenant_id).values(extra_extensions=Tenant.extra_extensions)
    )


def visible_tenant_ids(principal: Principal):
    """The ids of the tenants the principal sees, for `column.in_(...)` (a tenant: its own; a
    reseller: its customers'); None for the operator, who sees every tenant."""
    if principal.reseller_id is not None:
        return select(BillingAccount.tenant_id).where(BillingAccount.reseller_id == principal.reseller_id)
    return None if principal.is_operator else [principal.tenant_id]


async def list_tenants(session: AsyncSession, principal: Principal) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.id)
    if (ids := visible_tenant_ids(principal)) is not None:
        query = query.where(Tenant.id.in_(ids))
    return list(await session.scalars(query))


async def create_tenant(unit: Unit, principal: Principal, fields: dict) -> Tenant:
    require_manager(principal)
    if fields.get("record_calls"):
        require_feature(PLANS[fields["plan"]], "recording")
    tenant = Tenant(**fields)
    unit.session.add(tenant)
    await unit.session.flush()
    return tenant


async def update_tenant(unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Tenant:
    tenant = await visible_tenant(unit.session, principal, tenant_id)
    require_operator(principal)
    await lock_tenant(unit.session, tenant_id)
    plan = PLANS[fields.get("plan", tenant.plan)]
    if "plan" in fields or "extra_extensions" in fields:
        await _check_quota(unit.session, tenant, plan, fields)
    if fields.get("record_calls"):
        require_feature(plan, "recording")
    if "plan" in fields and not plan.recording:
        # The plan no longer records: recording stops at once, on every extension and
        # as the tenant's default.
        fields = {**fields, "record_calls": False}
        await unit.session.execute(
            update(Extension).where(Extension.tenant_id == tenant.id).values(record_calls=False))
    for name, value in fields.items():
        setattr(tenant, name, value)
    return tenant


async def _check_quota(session: AsyncSession, tenant: Tenant, plan, fields: dict) -> None:
    """A plan change applies at once, so it may not leave more extensions than it allows."""
    limit = extension_limit(plan, fields.get("extra_extensions", tenant.extra_extensions))
    count = await extension_count(session, tenant.id)
    if limit is not None and count > limit:
        raise PlanLimit(f"the tenant has {count} extensions; the new plan allows {limit}")


async def extension_count(session: AsyncSession, tenant_id: int) -> int:
    return await session.scalar(select(func.count()).where(Extension.tenant_id == tenant_id))


@dataclass
class TenantService:
    """What a plan change or a deletion does to what others own, in one place: a plan
    change re-dates the recordings; a deletion takes the recordings (with destruction
    records), the voicemail, every extension's SIP account and the prompts."""
    extensions: ExtensionService
    voicemail: VoicemailService
    recordings: RecordingService
    prompts: PromptStore

    async def update(self, unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Tenant:
        tenant = await update_tenant(unit, principal, tenant_id, fields)
        if "plan" in fields:
            await self.recordings.plan_changed(unit, principal, tenant)
        return tenant

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int) -> None:
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        require_operator(principal)
        # Before the tenant's rows cascade away: destruction records name each recording.
        await self.recordings.tenant_deleted(unit, principal, tenant_id)
        await self.voicemail.forget_tenant(unit, tenant_id)
        for extension in await unit.session.scalars(select(Extension).where(Extension.tenant_id == tenant_id)):
            await self.extensions.remove(unit, extension)
        await unit.session.execute(delete(Tenant).where(Tenant.id == tenant.id))
        unit.after_commit(lambda: asyncio.to_thread(self.prompts.remove_tenant, tenant_id))
