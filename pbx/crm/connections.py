"""A tenant's CRM connection (`/tenants/{tid}/crm`): plan gates, the provider's required
credentials, every URL through the SSRF guard, credentials sealed before they are stored."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.crm.lookup import credentials_context
from pbx.crm.providers import check_plan
from pbx.db.crm_tables import CrmConnection
from pbx.db.unit import Unit
from pbx.domain.errors import Invalid, NotFound
from pbx.eventing.ssrf import Network, checked_addresses
from pbx.services.tenants import visible_tenant
from pbx.services.tokens import Principal


def check_credentials(module, credentials: dict) -> None:
    missing = [key for key in module.REQUIRED_CREDENTIALS if not credentials.get(key)]
    if missing:
        raise Invalid(f"credentials: {module.PROVIDER} needs {', '.join(missing)}")


def _opened(module, base_url: str | None, credentials: dict) -> str:
    """The base URL, once the provider's connect() took it and the credentials (no request is
    made): what it refuses (Dynamics has no default base_url, a tenant_id that is no directory
    id, an api_version unlike v62.0) is a 422 now rather than a failing CRM later."""
    if not base_url:
        raise Invalid(f"base_url: {module.PROVIDER} needs the organisation's own URL")
    try:
        module.connect(base_url, dict(credentials))
    except ValueError as exc:
        raise Invalid(f"{module.PROVIDER}: {exc}") from exc
    return base_url


class CrmConnections:
    def __init__(self, providers: dict, sealer, allow: tuple[Network, ...]):
        self.providers, self.sealer, self.allow = providers, sealer, allow

    async def _row(self, session: AsyncSession, principal: Principal, tenant_id: int) -> CrmConnection:
        await visible_tenant(session, principal, tenant_id)
        row = await session.scalar(select(CrmConnection).where(CrmConnection.tenant_id == tenant_id))
        if row is None:
            raise NotFound("this tenant has no CRM connected")
        return row

    async def get(self, session: AsyncSession, principal: Principal, tenant_id: int) -> CrmConnection:
        return await self._row(session, principal, tenant_id)

    async def put(self, unit: Unit, principal: Principal, tenant_id: int, fields: dict) -> CrmConnection:
        tenant = await visible_tenant(unit.session, principal, tenant_id)
        provider, credentials = fields["provider"], fields["credentials"]
        check_plan(tenant.plan, provider)
        module = self.providers[provider]  # the body's schema allows only the registered providers
        check_credentials(module, credentials)
        base_url = _opened(module, fields.get("base_url") or module.DEFAULT_BASE_URL, credentials)
        for url in [base_url] + [v for k, v in credentials.items() if k.endswith("_url")]:
            await checked_addresses(url, self.allow)  # a CRM (or its token server) inside our network: 422
        row = await unit.session.scalar(select(CrmConnection).where(CrmConnection.tenant_id == tenant_id))
        if row is None:
            row = CrmConnection(tenant_id=tenant_id)
            unit.session.add(row)
        row.provider, row.base_url = provider, base_url
        row.credentials = self.sealer.seal(json.dumps(credentials), credentials_context(tenant_id))
        row.last_success_at = row.last_failure_at = row.last_error = None
        await unit.session.flush()
        return row

    async def delete(self, unit: Unit, principal: Principal, tenant_id: int) -> None:
        await unit.session.delete(await self._row(unit.session, principal, tenant_id))
