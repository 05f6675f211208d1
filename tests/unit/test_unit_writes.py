"""The unit of work learns what its transaction wrote and tells only the subscribers of those
tables, after commit: a call record does not touch the routing snapshot, an extension does."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from pbx.calls.legs import parse_leg
from pbx.calls.store import store_legs
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import CdrFileState, Extension, Tenant
from pbx.db.unit import Database
from pbx.services.routing_snapshot import TABLES, RoutingSnapshots
from tests.unit.test_calls_legs import fields


@pytest.fixture
def database(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    yield Database(make_sessionmaker(engine), serialize_writes=True)
    asyncio.run(engine.dispose())


class Heard:
    def __init__(self, database: Database, tables=TABLES):
        self.written = []
        database.subscribe(tables, self.written.append)


def run(coro):
    return asyncio.run(coro)


async def tenant_with_extension(database: Database) -> Extension:
    async with database.unit() as unit:
        unit.session.add(Tenant(id=7, name="T", plan="kobi"))
        await unit.session.flush()
        extension = Extension(tenant_id=7, number="101", name="A", sip_username="101-x")
        unit.session.add(extension)
    return extension


def test_an_extension_write_names_its_row_and_tenant(database):
    heard = Heard(database)
    extension = run(tenant_with_extension(database))
    (written,) = heard.written  # one transaction, one notice
    assert written.rows["extensions"] == {extension.id: 7} and written.rows["tenants"] == {7: None}

    async def rename_then_delete():
        async with database.unit() as unit:
            (await unit.session.get(Extension, extension.id)).name = "B"
        async with database.unit() as unit:
            await unit.session.delete(await unit.session.get(Extension, extension.id))
    run(rename_then_delete())
    assert [w.rows for w in heard.written[1:]] == [{"extensions": {extension.id: 7}}] * 2


def test_call_records_do_not_touch_the_snapshot(database):
    run(tenant_with_extension(database))
    snapshot_heard, calls_heard = Heard(database), Heard(database, {"call_legs"})

    async def store():
        async with database.unit() as unit:
            await store_legs(unit.session, [parse_leg(fields())])
            unit.session.add(CdrFileState(name="Master.csv", inode=1, offset=10))
    run(store())
    assert snapshot_heard.written == [] and len(calls_heard.written) == 1
    assert "call_legs" in calls_heard.written[0].tables


def test_a_statement_marks_its_table_written_whole(database):
    run(tenant_with_extension(database))
    heard = Heard(database)

    async def bulk():
        async with database.unit() as unit:
            await unit.session.execute(update(Extension).where(Extension.tenant_id == 7).values(record_calls=False))
    run(bulk())
    (written,) = heard.written
    assert written.whole == {"extensions"} and written.rows == {}


def test_a_rolled_back_write_tells_no_one(database):
    heard = Heard(database)

    async def fail():
        async with database.unit() as unit:
            unit.session.add(Tenant(id=9, name="T", plan="kobi"))
            await unit.session.flush()
            raise RuntimeError("refused")
    with pytest.raises(RuntimeError):
        run(fail())
    assert heard.written == []


def test_the_snapshot_is_marked_stale_by_its_tables_only(database):
    snapshots = RoutingSnapshots(database)
    database.subscribe(TABLES, snapshots.changed)

    async def scenario():
        await snapshots.start()
        async with database.unit() as unit:
            await store_legs(unit.session, [parse_leg(fields())])
        assert not snapshots.stale  # a call record: nothing to rebuild
        await tenant_with_extension(database)
        assert snapshots.stale  # marked before the write returned
        snap = await snapshots.get()
        await snapshots.stop()
        return snap
    snap = run(scenario())
    assert snap.endpoints["101-x"].tenant_id == 7
