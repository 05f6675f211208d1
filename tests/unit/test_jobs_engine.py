"""The job engine over a real SQLite file, with a stand-in kind: steps, resume, cancel,
job.finished, pruning. (The real kinds run against Asterisk in tests/test_jobs_*.py.)"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Job, JobRow
from pbx.db.unit import Database
from pbx.domain.errors import Conflict, Invalid
from pbx.events import EventBus
from pbx.jobs import store
from pbx.jobs.engine import EngineSettings, JobEngine
from pbx.jobs.store import RowOutcome
from pbx.services.tokens import Principal


class Counting:
    """Rows with input {"bad": true} fail the check; the others are 'made' once each."""

    batch_rows = 2

    def __init__(self):
        self.made: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()  # a batch is inside its unit

    async def check(self, session, job, rows):
        return [RowOutcome(r.row, Invalid("bad row")) for r in rows if r.input.get("bad")]

    async def prepare(self, unit, job):
        pass

    async def run_batch(self, unit, job, rows):
        self.entered.set()
        await self.gate.wait()
        self.made.extend(r.row for r in rows)
        return [RowOutcome(r.row, object_id=r.row) for r in rows]


@pytest.fixture
def database_url(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    return url


def engine_on(url, kind, workers: int):
    """A job engine over `url` running `kind` as "test", and the events it raises."""
    engine = make_engine(url)
    database = Database(make_sessionmaker(engine), serialize_writes=True)
    events, seen = EventBus(), []

    async def listener(event):
        seen.append(event)

    events.listeners.append(listener)
    return engine, database, JobEngine(database, events, {"test": kind}, EngineSettings(workers=workers)), seen


async def run_engine(url, kind, jobs, *, before_start=None):
    wait_for = ("succeeded", "failed", "cancelled")
    engine, database, runner, seen = engine_on(url, kind, workers=2)
    ids = []
    async with database.unit() as unit:
        for mode, inputs in jobs:
            ids.append((await store.create_job(unit.session, "test", None, mode, {}, inputs)).id)
    if before_start:
        await before_start(database, ids)
    runner.start()
    try:
        for _ in range(500):
            async with database.read() as session:
                statuses = list(await session.scalars(select(Job.status).where(Job.id.in_(ids))))
            if all(s in wait_for for s in statuses):
                break
            await asyncio.sleep(0.01)
        async with database.read() as session:
            result = {job_id: await session.get(Job, job_id) for job_id in ids}
            rows = {job_id: await store.failed_rows(session, job_id) for job_id in ids}
        return result, rows, seen
    finally:
        await runner.stop()
        await engine.dispose()


async def test_rows_run_in_batches_and_a_finished_job_raises_job_finished(database_url):
    kind = Counting()
    jobs, failed, events = await run_engine(database_url, kind, [("each", [{}, {"bad": True}, {}, {}, {}])])
    (job,) = jobs.values()
    assert (job.status, job.done, job.failed, job.finished_at is not None) == ("succeeded", 4, 1, True)
    assert sorted(kind.made) == [1, 3, 4, 5]
    assert [(r.row, r.code) for r in failed[job.id]] == [(2, "invalid")]
    assert [(e.type, e.data["status"], e.data["done"]) for e in events] == [("job.finished", "succeeded", 4)]


async def test_an_atomic_job_with_a_bad_row_does_nothing(database_url):
    kind = Counting()
    jobs, failed, events = await run_engine(database_url, kind, [("atomic", [{}, {"bad": True}])])
    (job,) = jobs.values()
    assert (job.status, job.done, job.failed, kind.made) == ("failed", 0, 1, [])
    assert events[0].data["status"] == "failed"


async def test_a_resumed_job_does_only_its_pending_rows(database_url):
    """As a kill -9 leaves it: running, validated, rows 1-2 done in an earlier life."""
    async def crashed_mid_job(database, ids):
        async with database.unit() as unit:
            job = await unit.session.get(Job, ids[0])
            job.status, job.validated = "running", True
            await store.record_outcomes(unit.session, job, [RowOutcome(1, object_id=1), RowOutcome(2, object_id=2)])

    kind = Counting()
    jobs, _, _ = await run_engine(database_url, kind, [("each", [{}] * 5)], before_start=crashed_mid_job)
    (job,) = jobs.values()
    assert (job.status, job.done, sorted(kind.made)) == ("succeeded", 5, [3, 4, 5])


async def test_cancel_ends_a_running_job_keeps_its_done_rows_and_raises_job_finished(database_url):
    kind = Counting()
    kind.gate.clear()  # the first batch waits inside its unit
    engine, database, runner, seen = engine_on(database_url, kind, workers=1)
    async with database.unit() as unit:
        job_id = (await store.create_job(unit.session, "test", None, "each", {}, [{}] * 6)).id
    runner.start()
    try:
        await asyncio.wait_for(kind.entered.wait(), 10)

        async def cancel():
            async with database.unit() as unit:  # queued behind the batch holding the write lock
                return await runner.cancel(unit, Principal(None), job_id)

        cancelling = asyncio.ensure_future(cancel())
        await asyncio.sleep(0.1)
        kind.gate.set()
        assert (await cancelling).status == "cancelled"
        await asyncio.sleep(0.3)
        async with database.read() as session:
            job = await session.get(Job, job_id)
        assert (job.status, job.done, kind.made) == ("cancelled", 2, [1, 2])  # one batch, then no more
        assert [(e.type, e.data["status"]) for e in seen] == [("job.finished", "cancelled")]
        async with database.unit() as unit:
            with pytest.raises(Conflict):
                await runner.cancel(unit, Principal(None), job_id)
    finally:
        await runner.stop()
        await engine.dispose()


async def test_finished_jobs_are_pruned_after_the_retention_with_their_rows(database_url):
    engine = make_engine(database_url)
    database = Database(make_sessionmaker(engine))
    old = datetime.now(timezone.utc) - timedelta(days=40)
    async with database.unit() as unit:
        for status, finished in (("succeeded", old), ("failed", datetime.now(timezone.utc)), ("running", None)):
            job = await store.create_job(unit.session, "test", None, "each", {}, [{}])
            job.status, job.finished_at = status, finished
    async with database.unit() as unit:
        assert await store.prune_finished(unit.session, datetime.now(timezone.utc) - timedelta(days=30)) == 1
    async with database.read() as session:
        assert sorted(await session.scalars(select(Job.status))) == ["failed", "running"]
        assert len(list(await session.scalars(select(JobRow.row)))) == 2
    await engine.dispose()
