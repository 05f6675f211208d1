"""Checks a destination against its tenant: everything it names must exist there."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Extension, Number, Prompt, Tenant
from pbx.domain import destinations
from pbx.domain.errors import FeatureNotInPlan, Invalid
from pbx.domain.plans import PLANS


async def validate(session: AsyncSession, tenant: Tenant, data) -> dict:
    """The destination in its stored form, or Invalid / FeatureNotInPlan."""
    try:
        dest = destinations.parse(data)
    except ValueError as exc:
        raise Invalid(f"destination: {exc}") from exc
    refs = destinations.references(dest)
    if refs.schedules and not PLANS[tenant.plan].schedules:
        raise FeatureNotInPlan(f"schedules are not part of the {tenant.plan} plan")
    await _check_exist(session, tenant.id, refs)
    return destinations.dump(dest)


async def _check_exist(session: AsyncSession, tenant_id: int, refs: destinations.References) -> None:
    for kind in ("ivrs", "ring_groups", "schedules"):
        if getattr(refs, kind):
            raise Invalid(f"destination names {kind.replace('_', ' ')} that do not exist in this tenant")
    if refs.extensions:
        found = set(await session.scalars(
            select(Extension.number).where(Extension.tenant_id == tenant_id, Extension.number.in_(refs.extensions))
        ))
        if missing := refs.extensions - found:
            raise Invalid(f"destination names extensions that do not exist: {', '.join(sorted(missing))}")
    if refs.prompts:
        found = set(await session.scalars(
            select(Prompt.id).where(Prompt.tenant_id == tenant_id, Prompt.id.in_(refs.prompts))
        ))
        if refs.prompts - found:
            raise Invalid("destination names a prompt that does not exist")


async def numbers_using_prompt(session: AsyncSession, tenant_id: int, prompt_id: int) -> str | None:
    for number in await session.scalars(select(Number).where(Number.tenant_id == tenant_id)):
        if prompt_id in destinations.references(destinations.parse(number.destination)).prompts:
            return f"number {number.number}"
    return None


async def numbers_using_extension(session: AsyncSession, tenant_id: int, extension: str) -> str | None:
    for number in await session.scalars(select(Number).where(Number.tenant_id == tenant_id)):
        if extension in destinations.references(destinations.parse(number.destination)).extensions:
            return f"number {number.number}"
    return None
