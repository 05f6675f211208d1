"""A customer's plan change under the commitment: an upgrade applies at once and is
charged pro rata for the rest of the term (pbx/billing/terms.py has the formula); a
downgrade is noted and applied at renewal by the terms job. Converting a trial starts
the 12-month term and lifts a suspension."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from pbx.billing import terms
from pbx.billing.invoice import PLAN_NAMES
from pbx.billing.money import text
from pbx.billing.months import month_of
from pbx.billing.service import BillingService
from pbx.db.billing_tables import OneOffCharge
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict
from pbx.events import EventBus
from pbx.services.tenants import require_operator, visible_tenant
from pbx.services.tokens import Principal

ORDER = ("girisimci", "kobi", "enterprise")


class PlanChanges:
    def __init__(self, billing: BillingService, tenants, events: EventBus):
        self.billing, self.tenants, self.events = billing, tenants, events

    def monthly(self, plan: str, account) -> Decimal:
        if plan == "enterprise":
            if not account.enterprise_monthly:
                raise Conflict("set the tenant's Enterprise price first (PATCH /tenants/{id}/billing)")
            return Decimal(account.enterprise_monthly)
        return self.billing.catalogue.plan_monthly[plan]

    async def change(self, unit: Unit, principal: Principal, tenant_id: int, plan: str,
                     now: datetime | None = None) -> dict:
        now = now or datetime.now(timezone.utc)
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        require_operator(principal)
        account = await self.billing.account(unit.session, tenant)
        unit.session.add(account)
        if plan == tenant.plan:
            account.pending_plan = None  # a noted downgrade is called off
            return {"plan": plan, "effective": "now", "charge": None, "pending_plan": None}
        if ORDER.index(plan) < ORDER.index(tenant.plan):
            account.pending_plan = plan
            await self.events.emit("billing.downgrade_scheduled", tenant_id, {"plan": plan}, unit=unit)
            return {"plan": tenant.plan, "effective": "renewal", "charge": None, "pending_plan": plan}
        return await self._upgrade(unit, principal, tenant, account, plan, now)

    async def _upgrade(self, unit, principal, tenant, account, plan: str, now: datetime) -> dict:
        old = tenant.plan
        charge = Decimal(0)
        if not _in_trial(account, now):
            charge = terms.prorata_upgrade(self.monthly(old, account), self.monthly(plan, account),
                                           account.term_started_at, now, self.billing.catalogue.commitment_months)
        await self.tenants.update(unit, principal, tenant.id, {"plan": plan})
        account.pending_plan = None
        if charge:
            unit.session.add(OneOffCharge(
                tenant_id=tenant.id, month=month_of(now, account.timezone), amount=text(charge),
                description=f"Paket yükseltme {PLAN_NAMES[old]} → {PLAN_NAMES[plan]} (kalan süre, kıst)"))
        await self.events.emit("billing.upgraded", tenant.id, {"from": old, "to": plan, "charge": text(charge)},
                               unit=unit)
        return {"plan": plan, "effective": "now", "charge": text(charge), "pending_plan": None}

    async def convert(self, unit: Unit, principal: Principal, tenant_id: int, now: datetime | None = None) -> None:
        """The trial becomes the contract: the term starts now; a suspension ends."""
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        require_operator(principal)
        account = await self.billing.account(unit.session, tenant)
        unit.session.add(account)
        if account.trial_ends_at is None or account.trial_converted:
            raise Conflict("the tenant is not on a trial")
        account.trial_converted, account.term_started_at = True, now or datetime.now(timezone.utc)
        tenant.suspended = False
        await self.events.emit("billing.converted", tenant_id, {}, unit=unit)


def _in_trial(account, now: datetime) -> bool:
    return account.trial_ends_at is not None and not account.trial_converted and now < account.trial_ends_at
