"""A tenant's webhooks: checked URLs (the SSRF guard, at save time), event names, a
secret generated when none is given; and each webhook's delivery log."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.event_tables import EventRow, Webhook, WebhookDelivery
from pbx.db.unit import Unit
from pbx.eventing.ssrf import Network, checked_addresses
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant
from pbx.services.tokens import Principal

DELIVERY_LOG_MAX = 100


class WebhookService:
    def __init__(self, allow: tuple[Network, ...]):
        self.allow = allow

    async def _checked(self, fields: dict) -> dict:
        if "url" in fields:
            await checked_addresses(fields["url"], self.allow)
        if fields.get("secret") is None:
            fields.pop("secret", None)
        if "enabled" in fields and fields["enabled"]:
            fields["failing_since"] = None  # switched back on: a fresh day before it is disabled again
        return fields

    async def list(self, session: AsyncSession, principal: Principal, tenant_id: int) -> list:
        return await scoped_list(session, principal, Webhook, tenant_id)

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int, webhook_id: int) -> Webhook:
        return await scoped_get(session, principal, Webhook, tenant_id, webhook_id, "webhook")

    async def create(self, unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> Webhook:
        await visible_tenant(unit.session, principal, tenant_id)
        fields = await self._checked(dict(fields))
        row = Webhook(tenant_id=tenant_id, enabled=True, secret=fields.pop("secret", None)
                      or "whsec_" + secrets.token_urlsafe(24), **fields)
        unit.session.add(row)
        await unit.session.flush()
        return row

    async def update(self, unit: Unit, principal: Principal, tenant_id: int, webhook_id: int,
                     fields: dict) -> Webhook:
        row = await self.get(unit.session, principal, tenant_id, webhook_id)
        for name, value in (await self._checked(dict(fields))).items():
            setattr(row, name, value)
        return row

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int, webhook_id: int) -> None:
        await unit.session.delete(await self.get(unit.session, principal, tenant_id, webhook_id))

    async def deliveries(self, session: AsyncSession, principal: Principal, tenant_id: int,
                         webhook_id: int) -> list[tuple[WebhookDelivery, str]]:
        """Newest first, with each event's type."""
        await self.get(session, principal, tenant_id, webhook_id)
        rows = await session.execute(
            select(WebhookDelivery, EventRow.type).join(EventRow, EventRow.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.tenant_id == tenant_id)
            .order_by(WebhookDelivery.id.desc()).limit(DELIVERY_LOG_MAX))
        return [tuple(row) for row in rows]
