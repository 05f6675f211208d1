"""Seq allocation on PostgreSQL, where writers are not queued by the control plane:
concurrent transactions of one tenant never share a seq, and a rolled-back one's seq is
not seen."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.event_tables import EventRow
from pbx.db.migrate import upgrade
from pbx.db.models import Tenant
from pbx.db.unit import Database
from pbx.events import EventBus


@pytest.fixture(scope="module")
def postgres_url():
    from tests.support.postgres import PostgresServer

    server = PostgresServer()
    try:
        url = server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"no PostgreSQL here: {exc}")
    try:
        upgrade(url)
        yield url
    finally:
        server.stop()


def test_concurrent_transactions_get_distinct_increasing_seqs(postgres_url):
    async def main():
        engine = make_engine(postgres_url)
        database = Database(make_sessionmaker(engine), serialize_writes=False)
        try:
            async with database.unit() as unit:
                unit.session.add(Tenant(id=7, name="T", plan="kobi"))
            bus = EventBus(database)

            async def one(n):
                async with database.unit() as unit:
                    await bus.emit("job.finished", 7, {"n": n}, unit=unit)
                    await asyncio.sleep(0.01)  # hold the transaction open: the others queue on the counter row

            await asyncio.gather(*(one(n) for n in range(30)))
            async with database.read() as session:
                rows = (await session.execute(select(EventRow.seq, EventRow.at).order_by(EventRow.seq))).all()
            return [r.seq for r in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == list(range(1, 31))
