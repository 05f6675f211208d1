"""Jobs and their rows in the database: every read scoped to what the principal may see."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Job, JobRow
from pbx.domain.errors import NotFound, PbxError
from pbx.services.tenants import check_owner_visible, visible_tenant, visible_tenant_ids
from pbx.services.tokens import Principal

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
LIST_LIMIT = 200


@dataclass
class RowOutcome:
    """What became of one row: done (object_id, maybe a sealed secret) or failed (an error)."""

    row: int
    error: PbxError | None = None
    object_id: int | None = None
    sip_username: str | None = None
    secret: str | None = None


async def create_job(session: AsyncSession, kind: str, tenant_id: int | None, mode: str, params: dict,
                     inputs: list) -> Job:
    job = Job(kind=kind, tenant_id=tenant_id, status="queued", mode=mode, validated=False, params=params,
              total=len(inputs), done=0, failed=0)
    session.add(job)
    await session.flush()
    if inputs:
        await session.execute(insert(JobRow), [
            {"job_id": job.id, "row": number, "input": value, "status": "pending"}
            for number, value in enumerate(inputs, start=1)])
    return job


async def visible_job(session: AsyncSession, principal: Principal, job_id: int) -> Job:
    """Another tenant's job, or an operator job seen with a tenant token, does not exist here;
    a tenant's job is seen by whoever sees the tenant (its reseller too)."""
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound("no such job")
    await check_owner_visible(session, principal, job.tenant_id, "job")
    return job


async def list_jobs(session: AsyncSession, principal: Principal, tenant_id: int | None) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(LIST_LIMIT)
    if tenant_id is not None:
        await visible_tenant(session, principal, tenant_id)
        query = query.where(Job.tenant_id == tenant_id)
    elif (ids := visible_tenant_ids(principal)) is not None:
        query = query.where(Job.tenant_id.in_(ids))
    return list(await session.scalars(query))


async def failed_rows(session: AsyncSession, job_id: int) -> list[JobRow]:
    query = select(JobRow).where(JobRow.job_id == job_id, JobRow.status == "failed").order_by(JobRow.row)
    return list(await session.scalars(query))


async def done_rows(session: AsyncSession, job_id: int) -> list[JobRow]:
    query = select(JobRow).where(JobRow.job_id == job_id, JobRow.status == "done").order_by(JobRow.row)
    return list(await session.scalars(query))


async def pending_rows(session: AsyncSession, job_id: int, limit: int | None = None) -> list[JobRow]:
    query = select(JobRow).where(JobRow.job_id == job_id, JobRow.status == "pending").order_by(JobRow.row)
    return list(await session.scalars(query.limit(limit) if limit else query))


async def record_outcomes(session: AsyncSession, job: Job, outcomes: list[RowOutcome]) -> None:
    """In the unit that did the rows' work: their outcome and the job's counts commit with it."""
    if not outcomes:
        return
    values = [{"j": job.id, "r": o.row, "status": "failed" if o.error else "done",
               "code": o.error.code if o.error else None, "message": o.error.message[:300] if o.error else None,
               "object_id": o.object_id, "sip_username": o.sip_username, "secret": o.secret} for o in outcomes]
    statement = update(JobRow).where(JobRow.job_id == bindparam("j"), JobRow.row == bindparam("r"),
                                     JobRow.status == "pending")  # a row's outcome is written once
    connection = await session.connection()  # Core executemany: one statement, a parameter set per row
    await connection.execute(statement.values(
        status=bindparam("status"), code=bindparam("code"), message=bindparam("message"),
        object_id=bindparam("object_id"), sip_username=bindparam("sip_username"), secret=bindparam("secret")),
        values)
    failed = sum(1 for o in outcomes if o.error)
    await session.execute(update(Job).where(Job.id == job.id).values(
        done=Job.done + len(outcomes) - failed, failed=Job.failed + failed))


async def wipe_secrets(session: AsyncSession, job_id: int, now: datetime) -> None:
    await session.execute(update(JobRow).where(JobRow.job_id == job_id).values(secret=None))
    await session.execute(update(Job).where(Job.id == job_id).values(result_read_at=now))


async def prune_finished(session: AsyncSession, before: datetime) -> int:
    """Jobs finished before `before` go, rows with them (ON DELETE CASCADE)."""
    ids = list(await session.scalars(select(Job.id).where(Job.status.in_(FINISHED), Job.finished_at < before)
                                     .limit(500)))
    if ids:
        await session.execute(delete(JobRow).where(JobRow.job_id.in_(ids)))
        await session.execute(delete(Job).where(Job.id.in_(ids)))
    return len(ids)
