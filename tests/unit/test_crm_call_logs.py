"""The CRM call-log loop over a temporary SQLite file with a fake CRM: a tenant whose CRM
hangs holds up only its own logs, and a stop mid-request leaves the call owed, logged once
by the next loop."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlalchemy import select

from pbx.crm.call_logs import CrmCallLogger
from pbx.db.crm_tables import CrmCallLog
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Tenant
from pbx.db.unit import Database
from pbx.eventing.retry import RetrySchedule

HUNG, ANSWERING = 7, 8  # tenants


class FakeLookups:
    """HUNG's CRM takes the request and never answers (until cancelled); every other logs it."""

    def __init__(self, hung: set[int]):
        self.hung, self.logged, self.hanging = hung, [], 0

    async def log_call(self, tenant_id, call) -> bool:
        if tenant_id in self.hung:
            self.hanging += 1
            await asyncio.Event().wait()
        self.logged.append((tenant_id, call.call_id))
        return True


def _owed(tenant_id: int, call_id: str) -> CrmCallLog:
    fields = {"call_id": call_id, "direction": "inbound", "caller": "+905321234567", "callee": "+908501234567",
              "started_at": "2026-12-01T22:30:00+00:00", "duration_s": 75, "disposition": "ANSWERED",
              "extension": "101"}
    return CrmCallLog(tenant_id=tenant_id, call_id=call_id, call=fields, status="pending", attempts=0,
                      next_attempt_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


async def _statuses(database) -> dict[str, str]:
    async with database.read() as session:
        return dict((await session.execute(select(CrmCallLog.call_id, CrmCallLog.status))).all())


async def _until(database, wanted: dict[str, str]) -> dict[str, str]:
    for _ in range(2000):  # until it is so, or clearly never
        if (found := await _statuses(database)) == wanted:
            return found
        await asyncio.sleep(0.01)
    return found


def test_a_hung_crm_holds_up_only_its_tenant_and_a_stop_mid_request_loses_nothing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}"
    upgrade(url)
    schedule = RetrySchedule(0.01, 0.02, 3600)

    async def main():
        engine = make_engine(url)
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        try:
            async with database.unit() as unit:
                unit.session.add_all([Tenant(id=HUNG, name="T", plan="enterprise"),
                                      Tenant(id=ANSWERING, name="U", plan="enterprise")])
                await unit.session.flush()
                unit.session.add_all([_owed(HUNG, "1.1"), _owed(ANSWERING, "2.1")])
            hung = FakeLookups(hung={HUNG})
            logger = CrmCallLogger(database, hung, schedule, interval_s=0.05)
            logger.start()
            first = await _until(database, {"1.1": "pending", "2.1": "logged"})
            async with database.unit() as unit:  # a later call of the answering tenant, owed meanwhile
                unit.session.add(_owed(ANSWERING, "2.2"))
            logger.loop.poke()
            second = await _until(database, {"1.1": "pending", "2.1": "logged", "2.2": "logged"})
            await logger.stop()  # the control plane stops while HUNG's request is still out
            after_stop = await _statuses(database)
            answering = FakeLookups(hung=set())
            again = CrmCallLogger(database, answering, schedule, interval_s=0.05)
            again.start()
            final = await _until(database, {"1.1": "logged", "2.1": "logged", "2.2": "logged"})
            await again.stop()
            return first, second, hung.hanging, after_stop, final, answering.logged
        finally:
            await engine.dispose()

    first, second, hanging, after_stop, final, relogged = asyncio.run(main())
    assert first == {"1.1": "pending", "2.1": "logged"}  # while HUNG's CRM still has its request
    assert second == {"1.1": "pending", "2.1": "logged", "2.2": "logged"} and hanging == 1
    assert after_stop == {"1.1": "pending", "2.1": "logged", "2.2": "logged"}  # owed, not lost
    assert final == {"1.1": "logged", "2.1": "logged", "2.2": "logged"}
    assert relogged == [(HUNG, "1.1")]  # only what was owed: nothing logged twice
