"""The job engine: a bounded set of workers that run the jobs stored in the database.

A job runs in steps, each one unit of work (one transaction, so one routing-snapshot
step): first every row is checked (an atomic job with any bad row ends there, having
created nothing), then the pending rows are worked in batches. A row's outcome commits
with the work it describes, so after a crash or kill -9 the job resumes at the first
pending row and no row is done twice. Jobs found `running` at start-up were left by a
control plane that died; they are claimed again like queued ones. One control plane
runs the jobs of a database (the claim is in-process)."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.db.models import Job, JobRow
from pbx.db.unit import Database, Unit
from pbx.domain.errors import Conflict
from pbx.events import EventBus
from pbx.jobs import store
from pbx.jobs.store import RowOutcome
from pbx.services.tokens import Principal
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)

IDLE_POLL_S = 10.0
PRUNE_EVERY_S = 3600.0
MAX_ATTEMPTS = 3  # a job whose step keeps failing (not a row: the step itself) ends as failed


class Kind(Protocol):
    batch_rows: int

    async def check(self, session: AsyncSession, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        """The failures among `rows` found before any work (may be none)."""

    async def prepare(self, unit: Unit, job: Job) -> None:
        """Work of the job itself, before its rows, in every batch's unit (idempotent)."""

    async def run_batch(self, unit: Unit, job: Job, rows: list[JobRow]) -> list[RowOutcome]:
        """Does the rows' work inside `unit`; one outcome per row."""


@dataclass
class EngineSettings:
    workers: int = 2
    retention: timedelta = timedelta(days=30)


class JobEngine:
    def __init__(self, database: Database, events: EventBus, kinds: dict[str, Kind], settings: EngineSettings):
        self.database = database
        self.events = events
        self.kinds = kinds
        self.settings = settings
        self._active: set[int] = set()
        self._attempts: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._tasks = OwnedTasks()

    def start(self) -> None:
        for number in range(self.settings.workers):
            self._tasks.spawn(self._worker(), f"job-worker-{number}")
        self._tasks.spawn(self._pruner(), "job-pruner")

    async def stop(self) -> None:
        await self._tasks.cancel()

    def wake(self) -> None:
        """A job was queued: an idle worker takes it now rather than at its next poll."""
        self._wake.set()

    async def cancel(self, unit: Unit, principal: Principal, job_id: int) -> Job:
        job = await store.visible_job(unit.session, principal, job_id)
        if job.status not in store.ACTIVE:
            raise Conflict(f"the job has already {job.status}")
        await self._finish(unit, job, "cancelled")
        return job

    async def _worker(self) -> None:
        while True:
            job_id = await self._claim()
            if job_id is None:
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can turn a cancel that
                    # lands as its timeout fires into TimeoutError, and stop() would wait forever.
                    async with asyncio.timeout(IDLE_POLL_S):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
                continue
            try:
                await self._run(job_id)
            except Exception:
                log.exception("job %s: a step failed", job_id)
                await self._after_failure(job_id)
            finally:
                self._active.discard(job_id)

    async def _claim(self) -> int | None:
        async with self._claiming:  # two idle workers must not both take the same job
            async with self.database.read() as session:
                others = Job.id.notin_(self._active) if self._active else true()
                query = select(Job.id).where(Job.status.in_(store.ACTIVE), others).order_by(Job.id).limit(1)
                job_id = await session.scalar(query)
            if job_id is not None:
                self._active.add(job_id)
            return job_id

    async def _run(self, job_id: int) -> None:
        async with self.database.read() as session:
            job = await session.get(Job, job_id)
        kind = self.kinds[job.kind]
        if not job.validated and not await self._check(job, kind):
            return
        while True:
            async with self.database.unit() as unit:
                job = await self._still_running(unit.session, job_id)
                if job is None:
                    return  # cancelled meanwhile
                await kind.prepare(unit, job)
                rows = await store.pending_rows(unit.session, job_id, kind.batch_rows)
                if not rows:
                    await self._finish(unit, job, "failed" if job.done == 0 and job.failed else "succeeded")
                    return
                await store.record_outcomes(unit.session, job, await kind.run_batch(unit, job, rows))

    async def _check(self, job: Job, kind: Kind) -> bool:
        """One step: every row's failures are recorded; an atomic job with any ends here."""
        async with self.database.read() as session:
            failures = await kind.check(session, job, await store.pending_rows(session, job.id))
        async with self.database.unit() as unit:
            job = await self._still_running(unit.session, job.id)
            if job is None:
                return False
            await store.record_outcomes(unit.session, job, failures)
            if failures and job.mode == "atomic":
                await self._finish(unit, job, "failed")
                return False
            job.validated = True
            return True

    @staticmethod
    async def _still_running(session: AsyncSession, job_id: int) -> Job | None:
        """Read inside the writing unit: a cancel that committed first is seen here."""
        job = await session.get(Job, job_id, populate_existing=True, with_for_update=True)
        if job is None or job.status not in store.ACTIVE:
            return None
        job.status = "running"
        return job

    async def _finish(self, unit: Unit, job: Job, status: str) -> None:
        await unit.session.flush()
        await unit.session.refresh(job)  # the counts as the batches left them
        job.status, job.finished_at = status, datetime.now(timezone.utc)
        await self.events.emit("job.finished", job.tenant_id, {
            "job_id": job.id, "kind": job.kind, "status": status, "total": job.total, "done": job.done,
            "failed": job.failed}, unit=unit)

    async def _after_failure(self, job_id: int) -> None:
        self._attempts[job_id] = self._attempts.get(job_id, 0) + 1
        if self._attempts[job_id] < MAX_ATTEMPTS:
            await asyncio.sleep(1.0)  # e.g. the database was briefly unavailable: the job is retried
            return
        self._attempts.pop(job_id)
        async with self.database.unit() as unit:
            job = await self._still_running(unit.session, job_id)
            if job is not None:
                await self._finish(unit, job, "failed")

    async def _pruner(self) -> None:
        while True:
            try:
                async with self.database.unit() as unit:
                    pruned = await store.prune_finished(
                        unit.session, datetime.now(timezone.utc) - self.settings.retention)
                if pruned:
                    log.info("jobs: pruned %d finished jobs", pruned)
            except Exception:
                log.exception("job pruning failed; retrying later")
            await asyncio.sleep(PRUNE_EVERY_S)
