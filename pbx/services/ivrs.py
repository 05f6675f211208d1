"""IVR menus. An option that leads to another menu is an Enterprise feature."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Ivr, Prompt, Tenant
from pbx.domain import destinations as dests
from pbx.domain.errors import Invalid
from pbx.domain.plans import PLANS, require_feature
from pbx.services import destination_checks
from pbx.services.scoped import ScopedKind


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
    stored = await destination_checks.validate(session, tenant, data)
    if dests.references(dests.parse(stored)).ivrs:
        require_feature(PLANS[tenant.plan], "nested_ivr")
    return stored


IVRS = ScopedKind(Ivr, "IVR", "ivrs", check=_checked)
