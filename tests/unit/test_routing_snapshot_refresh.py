"""The routing snapshot's refresh rule: a call never routes by data older than a write
that had returned before it arrived; bursts of writes coalesce into few rebuilds. No test
here depends on how long anything takes: a fake step is held at a gate instead."""
import asyncio

import pytest

from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Extension, Number, Tenant
from pbx.db.unit import Database
from pbx.db.written import Written
from pbx.routing.snapshot import Snapshot
from pbx.services import routing_snapshot
from pbx.services.routing_snapshot import TABLES, RoutingSnapshots


class Source:
    """Stands in for the database: each step returns the data version it started at."""

    def __init__(self):
        self.version, self.loads, self.fail = 0, 0, False
        self.steps: list[Written] = []  # what each step was asked to read back
        self.reading = asyncio.Event()  # a step has started reading
        self.gate = asyncio.Event()  # and may finish
        self.gate.set()

    async def load(self, _database):
        self.loads += 1
        return Snapshot(default_trunk=str(self.version))

    async def refresh(self, _database, _previous, written):
        seen = self.version
        self.loads += 1
        self.steps.append(written)
        self.reading.set()
        await self.gate.wait()
        if self.fail:
            raise OSError("database gone")
        return Snapshot(default_trunk=str(seen))

    def write(self, snapshots, row_id: int = 1):
        self.version += 1
        written = Written()
        written.add_row("extensions", row_id, 1)
        snapshots.changed(written)  # what Database.unit does before the write's request returns


@pytest.fixture
def source(monkeypatch):
    source = Source()
    monkeypatch.setattr(routing_snapshot, "load", source.load)
    monkeypatch.setattr(routing_snapshot, "refresh", source.refresh)
    return source


async def started(**kw) -> RoutingSnapshots:
    snapshots = RoutingSnapshots(None, **kw)
    await snapshots.start()
    return snapshots


async def test_a_call_after_a_write_sees_it(source):
    snapshots = await started(idle_delay_s=60)
    assert (await snapshots.get()).default_trunk == "0"
    source.write(snapshots)
    assert (await snapshots.get()).default_trunk == "1"  # waited, though the idle delay is a minute
    await snapshots.stop()


async def test_a_write_during_a_rebuild_is_not_lost(source):
    snapshots = await started(idle_delay_s=60)
    source.write(snapshots, row_id=1)
    source.gate.clear()
    first = asyncio.create_task(snapshots.get())
    await source.reading.wait()  # the step for write 1 is reading
    source.write(snapshots, row_id=2)
    source.gate.set()
    assert (await snapshots.get()).default_trunk == "2"
    assert (await first).default_trunk in ("1", "2")
    assert [set(step.rows["extensions"]) for step in source.steps] == [{1}, {2}]  # each row read back once
    await snapshots.stop()


async def test_without_calls_writes_coalesce(source):
    snapshots = await started(idle_delay_s=60)
    for row_id in range(50):
        source.write(snapshots, row_id)  # a burst: no step can run in between
    assert (await snapshots.get()).default_trunk == "50"
    assert source.loads == 2  # the first build, then one step for the whole burst
    assert set(source.steps[0].rows["extensions"]) == set(range(50))
    await snapshots.stop()


async def test_a_failed_rebuild_fails_the_waiting_call_then_recovers(source):
    snapshots = await started(idle_delay_s=60)
    source.fail = True
    source.write(snapshots, row_id=1)
    with pytest.raises(OSError):
        await snapshots.get()
    source.fail = False
    source.write(snapshots, row_id=2)
    assert (await snapshots.get()).default_trunk == "2"
    assert set(source.steps[-1].rows["extensions"]) == {1, 2}  # the failed step's rows are read again
    await snapshots.stop()


async def test_load_reads_the_real_schema(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    database = Database(make_sessionmaker(engine))
    snapshots = RoutingSnapshots(database)
    database.subscribe(TABLES, snapshots.changed)
    await snapshots.start()
    async with database.unit() as unit:
        unit.session.add(Tenant(id=1, name="A", plan="kobi", recording_notice=True))
        await unit.session.flush()
        unit.session.add(Extension(tenant_id=1, number="101", name="x", sip_username="101-a", record_calls=True))
        unit.session.add(Number(tenant_id=1, number="+908505550000",
                                destination={"type": "extension", "extension": "101"}))
    snap = await snapshots.get()
    assert snap.endpoints["101-a"].record and snap.numbers["+908505550000"].tenant_id == 1
    assert snap.tenants[1].resolved.recorded == {"101"} and snap.tenants[1].recording_notice
    async with database.unit() as unit:  # a step by primary key: the changed row, the deleted one
        extension = await unit.session.get(Extension, 1)
        extension.number = "102"
        await unit.session.delete(await unit.session.get(Number, 1))
    snap = await snapshots.get()
    assert set(snap.tenants[1].extensions) == {"102"} and snap.numbers == {}
    assert snap == await routing_snapshot.load(database)  # what a full read gives
    await snapshots.stop()
    await engine.dispose()
