"""`tenants.plan_change`: the operator moves many tenants to one plan (and extra
extensions), each tenant one row, by the same rules as PATCH /tenants/{tid}: a tenant with
more extensions than the new plan allows fails with `plan_limit` and keeps its plan; the
others change at once, recordings shortened as a plan change requires."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Job, JobRow
from pbx.db.unit import Unit
from pbx.domain.errors import PbxError
from pbx.jobs.store import RowOutcome
from pbx.recordings.service import RecordingService
from pbx.services import tenants
from pbx.services.tokens import Principal

OPERATOR = Principal(None)


class PlanChange:
    batch_rows = 50  # each tenant's change may destroy recordings: keep units short

    def __init__(self, recordings: RecordingService):
        self.recordings = recordings

    async def check(self, session: AsyncSession, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        return []  # each tenant is decided when its row runs; there is no atomic plan change

    async def prepare(self, unit: Unit, job: Job) -> None:
        pass

    async def run_batch(self, unit: Unit, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        outcomes = []
        for row in rows:
            try:
                tenant = await tenants.update_tenant(unit, OPERATOR, row.input["tenant_id"], dict(job.params))
                await self.recordings.plan_changed(unit, OPERATOR, tenant)
                outcomes.append(RowOutcome(row.row, object_id=tenant.id))
            except PbxError as refused:
                outcomes.append(RowOutcome(row.row, refused))
        return outcomes
