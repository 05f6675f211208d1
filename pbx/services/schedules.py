"""Schedules (business hours and holidays): a KOBİ and Enterprise feature."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Schedule, Tenant
from pbx.domain.plans import PLANS, require_feature
from pbx.services.scoped import ScopedKind


async def _in_plan(_session: AsyncSession, tenant: Tenant, fields: dict) -> dict:
    require_feature(PLANS[tenant.plan], "schedules")
    return fields


SCHEDULES = ScopedKind(Schedule, "schedule", "schedules", check=_in_plan)
