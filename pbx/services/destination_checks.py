"""Checks a destination against its tenant: everything it names must exist there."""
from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Extension, Ivr, Number, Prompt, RingGroup, Schedule, Tenant
from pbx.domain import destinations
from pbx.domain.errors import Invalid, validation_message
from pbx.domain.plans import PLANS, require_feature


async def validate(session: AsyncSession, tenant: Tenant, data) -> dict:
    """The destination in its stored form, or Invalid / FeatureNotInPlan."""
    try:
        dest = destinations.parse(data)
    except ValidationError as exc:
        raise Invalid(validation_message(exc, "destination")) from exc
    refs = destinations.references(dest)
    if refs.schedules:
        require_feature(PLANS[tenant.plan], "schedules")
    await _check_exist(session, tenant.id, refs)
    return destinations.dump(dest)


async def _check_exist(session: AsyncSession, tenant_id: int, refs: destinations.References) -> None:
    if refs.ivrs:
        found = set(await session.scalars(select(Ivr.id).where(Ivr.tenant_id == tenant_id, Ivr.id.in_(refs.ivrs))))
        if refs.ivrs - found:
            raise Invalid("destination names an IVR that does not exist")
    if refs.schedules:
        found = set(await session.scalars(
            select(Schedule.id).where(Schedule.tenant_id == tenant_id, Schedule.id.in_(refs.schedules))))
        if refs.schedules - found:
            raise Invalid("destination names a schedule that does not exist")
    if refs.ring_groups:
        found = set(await session.scalars(
            select(RingGroup.id).where(RingGroup.tenant_id == tenant_id, RingGroup.id.in_(refs.ring_groups))))
        if refs.ring_groups - found:
            raise Invalid("destination names a ring group that does not exist")
    if refs.extensions:
        found = set(await session.scalars(
            select(Extension.number).where(Extension.tenant_id == tenant_id, Extension.number.in_(refs.extensions))
        ))
        if missing := refs.extensions - found:
            raise Invalid(f"destination names extensions that do not exist: {', '.join(sorted(missing))}")
    if refs.voicemail:
        boxes = set(await session.scalars(select(Extension.number).where(
            Extension.tenant_id == tenant_id, Extension.number.in_(refs.voicemail), Extension.voicemail.is_(True))))
        if missing := refs.voicemail - boxes:
            raise Invalid(f"voicemail is not enabled on: {', '.join(sorted(missing))}")
    if refs.prompts:
        found = set(await session.scalars(
            select(Prompt.id).where(Prompt.tenant_id == tenant_id, Prompt.id.in_(refs.prompts))
        ))
        if refs.prompts - found:
            raise Invalid("destination names a prompt that does not exist")


async def _destinations_in_use(session: AsyncSession, tenant_id: int):
    """Every (owner, destination) of the tenant: numbers, IVR options and IVR fallbacks."""
    for number in await session.scalars(select(Number).where(Number.tenant_id == tenant_id)):
        yield f"number {number.number}", destinations.parse(number.destination)
    for group in await session.scalars(select(RingGroup).where(RingGroup.tenant_id == tenant_id)):
        if group.next_destination is not None:
            yield f"ring group {group.name!r}", destinations.parse(group.next_destination)
    for menu in await session.scalars(select(Ivr).where(Ivr.tenant_id == tenant_id)):
        for dest in [*menu.options.values(), menu.timeout_destination]:
            if dest is not None:
                yield f"IVR {menu.name!r}", destinations.parse(dest)


async def user_of(session: AsyncSession, tenant_id: int, kind: str, key) -> str | None:
    """What still routes calls to it (kind: extensions, prompts, ivrs, ...), or None."""
    async for owner, dest in _destinations_in_use(session, tenant_id):
        if key in getattr(destinations.references(dest), kind):
            return owner
    return None


async def prompt_user(session: AsyncSession, tenant_id: int, prompt_id: int) -> str | None:
    if name := await session.scalar(select(Ivr.name).where(Ivr.tenant_id == tenant_id,
                                                           Ivr.greeting_prompt_id == prompt_id)):
        return f"IVR {name!r} (greeting)"
    return await user_of(session, tenant_id, "prompts", prompt_id)
