"""Billing's rules over the database: a tenant's terms, the international rate table,
a month's invoice (a draft until issued; issued ones never change; corrections are
credit notes)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.billing import invoice as pricing
from pbx.billing.catalogue import Catalogue
from pbx.billing.money import parse_amount, text
from pbx.billing.months import month_bounds
from pbx.billing.rates import Rate, RateTable
from pbx.db.billing_tables import BillingAccount, InternationalRate, Invoice, MonthlyUsage, OneOffCharge
from pbx.db.models import Call, Tenant
from pbx.db.unit import Unit
from pbx.domain.errors import Conflict, Invalid, NotFound
from pbx.services.tenants import require_operator, visible_tenant
from pbx.services.tokens import Principal

ISTANBUL = ZoneInfo("Europe/Istanbul")  # tenant-facing times (contract: Conventions)


def stored_lines(totals: pricing.Totals) -> list[dict]:
    return [{"description": l.description, "quantity": str(l.quantity), "unit_price": text(l.unit_price),
             "amount": text(l.amount)} for l in totals.lines]


class BillingService:
    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue

    async def open_account(self, unit: Unit, tenant: Tenant, *, trial: bool, circuit_pricing: bool,
                           enterprise_monthly: str | None = None, reseller_id: int | None = None) -> BillingAccount:
        now = datetime.now(timezone.utc)
        account = BillingAccount(
            tenant_id=tenant.id, timezone="Europe/Istanbul", circuit_pricing=circuit_pricing,
            enterprise_monthly=enterprise_monthly, trial_converted=False, term_started_at=now, reseller_id=reseller_id,
            reminders_sent=[],
            trial_ends_at=now + timedelta(days=self.catalogue.trial_days) if trial else None)
        unit.session.add(account)
        await unit.session.flush()
        return account

    async def account(self, session: AsyncSession, tenant: Tenant) -> BillingAccount:
        """Tenants made before billing existed have default terms."""
        found = await session.get(BillingAccount, tenant.id)
        return found or BillingAccount(tenant_id=tenant.id, timezone="Europe/Istanbul", circuit_pricing=False,
                                       trial_converted=False, term_started_at=tenant.created_at, reminders_sent=[])

    async def replace_rates(self, unit: Unit, principal: Principal, rates: list[Rate]) -> int:
        require_operator(principal)
        await unit.session.execute(delete(InternationalRate))
        unit.session.add_all(InternationalRate(prefix=r.prefix, destination=r.destination,
                                               per_minute=str(r.per_minute)) for r in rates)
        return len(rates)

    async def rates(self, session: AsyncSession) -> list[Rate]:
        rows = await session.scalars(select(InternationalRate).order_by(InternationalRate.prefix))
        return [Rate(r.prefix, r.destination, Decimal(r.per_minute)) for r in rows]

    async def month(self, session: AsyncSession, principal: Principal, tenant_id: int, month: str) -> dict:
        """The issued invoice of the month with its credit notes, or else the draft so far."""
        tenant = await visible_tenant(session, principal, tenant_id)
        issued = await session.scalar(select(Invoice).where(Invoice.invoice_key == f"{tenant_id}:{month}"))
        if issued is not None:
            credits = list(await session.scalars(select(Invoice).where(Invoice.corrects_id == issued.id)
                                                 .order_by(Invoice.id)))
            return {**present_invoice(issued), "credit_notes": [present_invoice(c) for c in credits]}
        totals = await self.draft(session, tenant, month)
        return {"id": None, "status": "draft", "kind": "invoice", "month": month, "lines": stored_lines(totals),
                "subtotal": text(totals.subtotal), "kdv": text(totals.kdv), "total": text(totals.total),
                "currency": self.catalogue.currency, "issued_at": None, "corrects_id": None, "reason": None,
                "credit_notes": []}

    async def draft(self, session: AsyncSession, tenant: Tenant, month: str) -> pricing.Totals:
        account = await self.account(session, tenant)
        start, end = month_bounds(month, account.timezone)
        if end <= account.term_started_at:
            raise Conflict(f"the tenant's term starts after {month}")
        usage = await session.get(MonthlyUsage, (tenant.id, month))
        now = datetime.now(timezone.utc)
        extra = max(usage.max_extra_extensions if usage else 0, tenant.extra_extensions if start <= now < end else 0)
        calls = (await session.execute(select(Call.callee, Call.billsec).where(
            Call.tenant_id == tenant.id, Call.direction == "outbound", Call.disposition == "answered",
            Call.started_at >= start, Call.started_at < end))).all()
        international = [(c, s) for c, s in calls if c and c.startswith("+") and not c.startswith("+90")]
        facts = pricing.Usage(
            plan=tenant.plan, extra_extensions=extra, max_circuits=usage.max_circuits if usage else 0,
            circuit_pricing=account.circuit_pricing, international_calls=international,
            enterprise_monthly=Decimal(account.enterprise_monthly) if account.enterprise_monthly else None,
            in_trial=account.trial_ends_at is not None and start < account.trial_ends_at)
        try:
            totals = pricing.invoice(self.catalogue, facts, RateTable(await self.rates(session)))
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        charges = await session.scalars(select(OneOffCharge).where(
            OneOffCharge.tenant_id == tenant.id, OneOffCharge.month == month).order_by(OneOffCharge.id))
        extra_lines = [pricing.Line(c.description, Decimal(1), Decimal(c.amount), Decimal(c.amount)) for c in charges]
        return pricing.totals(totals.lines + extra_lines, self.catalogue.kdv_rate) if extra_lines else totals

    async def issue(self, unit: Unit, principal: Principal, tenant_id: int, month: str) -> Invoice:
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        require_operator(principal)
        _, end = month_bounds(month, (await self.account(unit.session, tenant)).timezone)
        if end > datetime.now(timezone.utc):
            raise Conflict("a month is issued once it is over")
        totals = await self.draft(unit.session, tenant, month)
        row = Invoice(tenant_id=tenant_id, month=month, kind="invoice", invoice_key=f"{tenant_id}:{month}",
                      lines=stored_lines(totals), subtotal=text(totals.subtotal), kdv=text(totals.kdv),
                      total=text(totals.total))
        return await _insert(unit, row, f"the invoice of {month} is already issued")

    async def credit_note(self, unit: Unit, principal: Principal, tenant_id: int, invoice_id: int,
                          amount: str, reason: str) -> Invoice:
        """A correction: a negative amount against an issued invoice, never above what is left of it."""
        await visible_tenant(unit.session, principal, tenant_id)
        require_operator(principal)
        original = await unit.session.scalar(select(Invoice).where(
            Invoice.id == invoice_id, Invoice.tenant_id == tenant_id, Invoice.kind == "invoice"))
        if original is None:
            raise NotFound("no such invoice")
        try:
            net = parse_amount(amount)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        credited = sum((-Decimal(c.subtotal) for c in await unit.session.scalars(
            select(Invoice).where(Invoice.corrects_id == original.id))), Decimal(0))
        if net <= 0 or net + credited > Decimal(original.subtotal):
            raise Invalid(f"a credit note is more than 0 and at most {text(Decimal(original.subtotal) - credited)}")
        totals = pricing.totals([pricing.Line(f"Düzeltme: fatura #{original.id} ({reason})", Decimal(1), -net, -net)],
                                self.catalogue.kdv_rate)
        row = Invoice(tenant_id=tenant_id, month=original.month, kind="credit_note", corrects_id=original.id,
                      reason=reason, lines=stored_lines(totals), subtotal=text(totals.subtotal),
                      kdv=text(totals.kdv), total=text(totals.total))
        return await _insert(unit, row, "conflict")


async def _insert(unit: Unit, row: Invoice, conflict: str) -> Invoice:
    unit.session.add(row)
    try:
        async with unit.session.begin_nested():
            await unit.session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc
    return row


def present_invoice(row: Invoice) -> dict:
    return {"id": row.id, "status": "issued", "kind": row.kind, "month": row.month, "lines": row.lines,
            "subtotal": row.subtotal, "kdv": row.kdv, "total": row.total, "currency": "TRY",
            "issued_at": row.issued_at.astimezone(ISTANBUL).isoformat(), "corrects_id": row.corrects_id, "reason": row.reason}
