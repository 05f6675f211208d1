"""Whom a trunk's system fault concerns: every tenant when it carries the outbound calls,
else the tenants whose calls went through it (call_trunks), each once. A real SQLite database."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlalchemy import select

from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Call, Tenant, Trunk
from pbx.db.ops_tables import CallTrunk, FaultTenant
from pbx.db.unit import Database
from pbx.ops.faults import FaultService

AT = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def call(linkedid: str, tenant_id: int) -> Call:
    return Call(linkedid=linkedid, tenant_id=tenant_id, started_at=AT, ended_at=AT, direction="out",
                disposition="ANSWERED", duration_s=10, billsec=8)


def test_a_side_trunks_fault_concerns_the_tenants_whose_calls_it_carried_and_the_default_every_tenant(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}"
    upgrade(url)

    async def main():
        engine = make_engine(url)
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        try:
            async with database.unit() as unit:
                unit.session.add_all([Tenant(id=t, name=f"T{t}", plan="kobi") for t in (1, 2, 3)])
                unit.session.add_all([
                    Trunk(id=1, name="Ana", host="192.0.2.1", match=[], default_outbound=True, sip_id="trunk-1"),
                    Trunk(id=2, name="Yan", host="192.0.2.2", match=[], sip_id="trunk-2")])
                await unit.session.flush()
                unit.session.add_all([call("a", 1), call("b", 1), call("c", 2), call("d", 3)])
                unit.session.add_all([CallTrunk(linkedid=linkedid, trunk_id=trunk, direction="out",
                                                dial_status="ANSWER")
                                      for linkedid, trunk in (("a", 2), ("b", 2), ("c", 2), ("d", 1))])
            faults = FaultService(database)
            async with database.unit() as unit:
                side = await faults.open_system_fault(unit, 2)
                default = await faults.open_system_fault(unit, 1)
            async with database.read() as session:
                concerned = list(await session.execute(select(FaultTenant.fault_id, FaultTenant.tenant_id)))
            return {fault: sorted(t for f, t in concerned if f == fault) for fault in (side.id, default.id)}, side.id, default.id
        finally:
            await engine.dispose()

    concerned, side, default = asyncio.run(main())
    assert concerned == {side: [1, 2], default: [1, 2, 3]}
