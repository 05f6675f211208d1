"""Seed 004's B2B sub-agents: a reseller's token creates tenants that are its customers and
manages only those (pbx/services/tenants.visible_tenant); it sees their invoices at its
wholesale price: every line less its discount, rounded to kuruş, KDV on the result."""
from __future__ import annotations

import secrets
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.billing.invoice import Line, Totals, totals
from pbx.billing.money import kurus, text
from pbx.db.billing_tables import Reseller, ResellerToken
from pbx.domain.errors import NotFound
from pbx.services.tokens import NO_TENANT, Authenticated, Principal, digest


def wholesale(invoice: dict, discount_percent: Decimal, kdv_rate: Decimal) -> dict:
    keep = (Decimal(100) - discount_percent) / 100
    lines = [Line(l["description"], Decimal(l["quantity"]), kurus(Decimal(l["unit_price"]) * keep),
                  kurus(Decimal(l["amount"]) * keep)) for l in invoice["lines"]]
    result: Totals = totals(lines, kdv_rate)
    return {**invoice, "lines": [{"description": l.description, "quantity": str(l.quantity),
                                  "unit_price": text(l.unit_price), "amount": text(l.amount)} for l in lines],
            "subtotal": text(result.subtotal), "kdv": text(result.kdv), "total": text(result.total),
            "credit_notes": []}


async def create_token(session: AsyncSession, reseller_id: int) -> str:
    if await session.get(Reseller, reseller_id) is None:
        raise NotFound("no such reseller")
    token = "pbxr_" + secrets.token_urlsafe(32)
    session.add(ResellerToken(reseller_id=reseller_id, token_hash=digest(token)))
    await session.flush()
    return token


async def authenticate(session: AsyncSession, token: str) -> Authenticated | None:
    row = await session.scalar(select(ResellerToken).where(ResellerToken.token_hash == digest(token)))
    if row is None:
        return None
    return Authenticated(Principal(NO_TENANT, row.id, reseller_id=row.reseller_id), stale_last_use=False)


async def discount(session: AsyncSession, reseller_id: int) -> Decimal:
    reseller = await session.get(Reseller, reseller_id)
    return Decimal(reseller.discount_percent) if reseller else Decimal(0)
