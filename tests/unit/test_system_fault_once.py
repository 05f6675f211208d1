"""One open system fault per trunk and kind, also when two control planes race (each checked
before the other committed): the unique index refuses the second, which opens nothing; and
the two kinds (unreachable, failure rate) make one incident, not two. A real SQLite database."""
from __future__ import annotations

from sqlalchemy import select

from pbx.db.models import Tenant, Trunk
from pbx.db.ops_tables import Fault
from pbx.ops.faults import FAILURE_RATE, UNREACHABLE, FaultService

from tests.support.database import run_on_fresh_database


async def _setup(database) -> FaultService:
    async with database.unit() as unit:
        unit.session.add(Tenant(id=1, name="T1", plan="kobi"))
        unit.session.add(Trunk(id=1, name="Ana", host="192.0.2.1", match=[], default_outbound=True, sip_id="trunk-1"))
    return FaultService(database)


async def _open_faults(database) -> list[tuple[str, str]]:
    async with database.read() as session:
        return [(f.reason, f.priority) for f in await session.scalars(select(Fault).where(Fault.status == "open"))]


def test_a_race_between_two_nodes_opens_one_record(tmp_path):
    async def main(database):
        faults = await _setup(database)
        async with database.unit() as unit:
            assert await faults.open_system_fault(unit, 1) is not None

        async def not_seen_yet(*_args, **_kwargs):  # the other node's fault not committed when it looked
            return None
        faults.open_trunk_fault = not_seen_yet
        async with database.unit() as unit:
            assert await faults.open_system_fault(unit, 1) is None
        return await _open_faults(database)

    assert run_on_fresh_database(tmp_path, main) == [(UNREACHABLE, "kritik")]


def test_a_failure_rate_jump_beside_an_unreachable_trunk_is_the_same_incident(tmp_path):
    async def main(database):
        faults = await _setup(database)
        async with database.unit() as unit:
            rate = await faults.open_system_fault(unit, 1, FAILURE_RATE)
        async with database.unit() as unit:  # the trunk then stops answering: worse, its own Kritik record
            down = await faults.open_system_fault(unit, 1, UNREACHABLE)
        async with database.unit() as unit:
            again = await faults.open_system_fault(unit, 1, FAILURE_RATE)
            unreachable = await faults.open_trunk_fault(unit, 1, UNREACHABLE)
        return rate, down, again, unreachable, await _open_faults(database)

    rate, down, again, unreachable, open_faults = run_on_fresh_database(tmp_path, main)
    assert rate is not None and rate.priority == "yuksek" and down is not None and again is None
    assert unreachable.id == down.id
    assert sorted(open_faults) == [(FAILURE_RATE, "yuksek"), (UNREACHABLE, "kritik")]
