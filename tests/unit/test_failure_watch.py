"""The failure-rate watch against a real SQLite database: a jump opens one Yüksek fault however
many failures follow; an operator resolving it ends the incident, so the next jump is a new
fault; the end of an incident resolves its fault with the automatic cause."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from pbx.db.models import Tenant, Trunk
from pbx.db.ops_tables import Fault
from pbx.ops.failure_rate import FailureRate, Thresholds
from pbx.ops.failure_watch import RECOVERED_CAUSE, FailureRateFaults
from pbx.ops.faults import FaultService

from tests.support.database import run_on_fresh_database


async def _faults(database) -> list[Fault]:
    async with database.read() as session:
        return list(await session.scalars(select(Fault).order_by(Fault.id)))


def test_one_fault_per_jump_and_a_new_one_after_an_operator_resolved_it(tmp_path):
    async def main(database):
        async with database.unit() as unit:
            unit.session.add(Tenant(id=1, name="T1", plan="kobi"))
            unit.session.add(Trunk(id=1, name="Ana", host="192.0.2.1", match=[], default_outbound=True, sip_id="t-1"))
        service = FaultService(database)
        watch = FailureRateFaults(database, service, FailureRate(Thresholds(window_s=60, min_calls=3,
                                                                            recovery_s=0.2)), check_s=60)

        async def fail(times: int):
            for _ in range(times):
                watch.on_outcome(1, "out", "CONGESTION")
                watch.on_outcome(1, "in", "CONGESTION")  # an inbound dial says nothing of the trunk
            for _ in range(50):
                await asyncio.sleep(0.01)

        await fail(10)
        first = await _faults(database)
        async with database.unit() as unit:  # an operator resolves it while the trunk still fails
            await service.resolve(unit, await unit.session.get(Fault, first[0].id), {"cause": "elle"}, by="operator")
        await watch.check()
        await fail(1)  # the same failures still in the window: a new incident, a new fault
        second = await _faults(database)
        watch.detector.thresholds = Thresholds(window_s=0.1, min_calls=3, recovery_s=0.2)  # let them age out
        await watch.check()
        await asyncio.sleep(0.3)
        await watch.check()
        await watch.stop()
        return first, second, await _faults(database)

    first, second, last = run_on_fresh_database(tmp_path, main)
    assert [(f.reason, f.priority, f.status) for f in first] == [("failure_rate", "yuksek", "open")]
    assert [f.status for f in second] == ["resolved", "open"]
    assert [(f.status, f.cause) for f in last] == [("resolved", "elle"), ("resolved", RECOVERED_CAUSE)]
