"""What happens without anyone asking: a trunk that becomes unreachable opens a Kritik fault
(one per incident) and closes it when it answers again; deadlines are checked for breaches,
each raising `fault.deadline_breached` once, for every tenant the fault concerns."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from pbx.db.base import utcnow
from pbx.db.ops_tables import Fault, FaultTenant
from pbx.db.unit import Database
from pbx.ops.faults import UNREACHABLE, FaultService
from pbx.ops.monitor import Change
from pbx.ops.present import breaches
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)

RECOVERED_CAUSE = "Hat SIP OPTIONS sorgularına yeniden yanıt veriyor (otomatik kapatıldı)."


class TrunkFaults:
    """A TrunkMonitor listener."""

    def __init__(self, database: Database, faults: FaultService):
        self.database = database
        self.faults = faults

    async def on_change(self, change: Change) -> None:
        async with self.database.unit() as unit:
            if not change.reachable:
                fault = await self.faults.open_system_fault(unit, change.trunk_id)
                if fault:
                    log.warning("trunk %s unreachable: fault %s opened", change.trunk_id, fault.id)
                return
            fault = await self.faults.open_trunk_fault(unit, change.trunk_id, UNREACHABLE)
            if fault is not None:
                await self.faults.resolve(unit, fault, {"cause": RECOVERED_CAUSE}, by="system", at=change.at)


class DeadlineWatch:
    def __init__(self, database: Database, events, *, interval_s: float):
        self.database = database
        self.events = events
        self._loop = WakeableLoop("fault-deadlines", self.check, interval_s=interval_s, run_at_start=True)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def check(self, now: datetime | None = None) -> int:
        """Stores and announces every breach not announced yet; returns how many."""
        now = now or utcnow()
        raised = 0
        async with self.database.unit() as unit:
            rows = await unit.session.scalars(select(Fault).where(
                (Fault.status == "open") | (Fault.rfo_completed_at.is_(None) & Fault.rfo_due_at.is_not(None))))
            for fault in rows:
                new = [b for b in breaches(fault, now) if b not in (fault.breaches or [])]
                if not new:
                    continue
                fault.breaches = sorted({*(fault.breaches or []), *new})
                tenants = list(await unit.session.scalars(
                    select(FaultTenant.tenant_id).where(FaultTenant.fault_id == fault.id)))
                for deadline in new:
                    data = {"fault_id": fault.id, "deadline": deadline, "priority": fault.priority}
                    await self.events.emit("fault.deadline_breached", None, data, unit=unit)
                    for tenant_id in tenants:
                        await self.events.emit("fault.deadline_breached", tenant_id, data, unit=unit,
                                               dedupe_key=f"fault-{fault.id}-{deadline}")
                    raised += 1
        return raised
