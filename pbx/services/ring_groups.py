"""Ring groups: members must be the tenant's extensions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Extension, RingGroup, Tenant
from pbx.domain.errors import Invalid
from pbx.services import destination_checks
from pbx.services.scoped import ScopedKind


async def group_with_member(session: AsyncSession, tenant_id: int, number: str) -> str | None:
    for row in await session.scalars(select(RingGroup).where(RingGroup.tenant_id == tenant_id)):
        if number in row.extensions:
            return f"ring group {row.name!r}"
    return None


async def _checked(session: AsyncSession, tenant: Tenant, fields: dict) -> dict:
    checked = dict(fields)
    if "extensions" in fields:
        members = fields["extensions"]
        if len(set(members)) != len(members):
            raise Invalid("an extension is listed twice")
        found = set(await session.scalars(select(Extension.number).where(
            Extension.tenant_id == tenant.id, Extension.number.in_(members))))
        if missing := set(members) - found:
            raise Invalid(f"no such extensions: {', '.join(sorted(missing))}")
    if fields.get("next_destination") is not None:
        checked["next_destination"] = await destination_checks.validate(session, tenant, fields["next_destination"])
    return checked


RING_GROUPS = ScopedKind(RingGroup, "ring group", "ring_groups", check=_checked)
