"""The trunk monitor over a temporary SQLite database and a fake AMI: a qualify result
that changes nothing opens no transaction; a real change is stored once and told to the
listeners; a write of trunk_status elsewhere (another node) is read again."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from sqlalchemy import update

from pbx.db.models import Trunk
from pbx.db.ops_tables import TrunkStatus
from pbx.db.unit import Database
from pbx.ops.monitor import TrunkMonitor
from tests.support.database import run_on_fresh_database


class CountingDatabase(Database):
    """Counts the write transactions opened."""

    units = 0

    @asynccontextmanager
    async def unit(self):
        self.units += 1
        async with super().unit() as unit:
            yield unit


def qualified(monitor: TrunkMonitor, reachable: bool, rtt_usec: str = "12345") -> None:
    monitor.on_contact_status(None, {"AOR": "trunk-1", "ContactStatus": "Reachable" if reachable else "Unreachable",
                                     "RoundtripUsec": rtt_usec})


async def settled(monitor: TrunkMonitor) -> None:
    while not monitor._queue.empty():
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # the last item taken is being worked on


def test_unchanged_qualify_results_write_nothing_and_a_change_is_stored_once(tmp_path):
    async def main(fresh: Database):
        database = CountingDatabase(fresh.sessionmaker, serialize_writes=True)
        async with database.unit() as unit:
            unit.session.add(Trunk(name="Carrier", host="192.0.2.1", match=["192.0.2.1"], sip_id="trunk-1"))
        monitor = TrunkMonitor(database, ami=None)
        database.subscribe(TrunkMonitor.STATUS_TABLES, monitor.status_written)
        changes = []

        async def told(change):
            changes.append(change.reachable)

        monitor.listeners.append(told)
        monitor.start()
        try:
            await settled(monitor)
            before = database.units
            qualified(monitor, True)
            await settled(monitor)
            assert database.units == before + 1 and changes == [True]  # the first state is stored
            for n in range(50):
                qualified(monitor, True, rtt_usec=str(10000 + n))
            await settled(monitor)
            assert database.units == before + 1  # fifty unchanged results: no transaction
            assert monitor.rtt_ms[1] == 10.049  # the RTT still follows each result, in memory
            assert (await monitor.status(1))["rtt_ms"] == 10.049
            qualified(monitor, False)
            qualified(monitor, False)
            await settled(monitor)
            assert database.units == before + 2 and changes == [True, False]
            assert (await monitor.status(1))["reachable"] is False and monitor.rtt_ms[1] is None
            async with database.unit() as unit:  # as another node's relayed write would be heard
                await unit.session.execute(update(TrunkStatus).values(reachable=True))
            qualified(monitor, False)
            await settled(monitor)
            assert changes == [True, False, False]  # read again: it is unreachable here
            assert (await monitor.status(1))["reachable"] is False
        finally:
            await monitor.stop()

    run_on_fresh_database(tmp_path, main)
