"""The routing snapshot's refresh rule: a call never routes by data older than a write
that had returned before it arrived; bursts of writes coalesce into few rebuilds."""
import asyncio

import pytest

from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Extension, Number, Tenant
from pbx.db.unit import Database
from pbx.routing.snapshot import Snapshot
from pbx.services import routing_snapshot
from pbx.services.routing_snapshot import RoutingSnapshots


class Source:
    """Stands in for the database: each load returns the data version it started at."""

    def __init__(self, delay=0.01):
        self.version, self.loads, self.delay, self.fail = 0, 0, delay, False

    async def load(self, _database, _previous=None):
        seen = self.version
        self.loads += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise OSError("database gone")
        return Snapshot(default_trunk=str(seen))

    def write(self, snapshots):
        self.version += 1
        snapshots.changed()  # what Database.unit does before the write's request returns


@pytest.fixture
def source(monkeypatch):
    source = Source()
    monkeypatch.setattr(routing_snapshot, "load", source.load)
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
    source.write(snapshots)
    first = asyncio.create_task(snapshots.get())
    await asyncio.sleep(0.003)  # the rebuild for write 1 is reading
    source.write(snapshots)
    assert (await snapshots.get()).default_trunk == "2"
    assert (await first).default_trunk in ("1", "2")
    await snapshots.stop()


async def test_without_calls_writes_coalesce(source):
    snapshots = await started(idle_delay_s=0.05)
    for _ in range(50):
        source.write(snapshots)
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.2)
    assert not snapshots.stale and snapshots.current.default_trunk == "50"
    assert source.loads <= 4  # the first build, then a few for the burst
    await snapshots.stop()


async def test_a_failed_rebuild_fails_the_waiting_call_then_recovers(source):
    snapshots = await started(idle_delay_s=0.01)
    source.fail = True
    source.write(snapshots)
    with pytest.raises(OSError):
        await snapshots.get()
    source.fail = False
    assert (await snapshots.get()).default_trunk == "1"
    await snapshots.stop()


async def test_load_reads_the_real_schema(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    database = Database(make_sessionmaker(engine))
    snapshots = RoutingSnapshots(database)
    database.commit_listeners.append(snapshots.changed)
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
    await snapshots.stop()
    await engine.dispose()
