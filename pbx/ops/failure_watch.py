"""A trunk's failure rate jumping opens a Yüksek fault, one per incident, and its end resolves
it (the rules: pbx/ops/failure_rate.py). Fed by the outbound call attempts TrunkCalls sees in
the AMI DialEnd events; the end of an incident is looked for every PBX_FAULT_CHECK_SECONDS."""
from __future__ import annotations

import logging
import time

from pbx.db.ops_tables import Fault
from pbx.db.unit import Database
from pbx.ops.failure_rate import FailureRate
from pbx.ops.faults import FAILURE_RATE, FaultService
from pbx.tasks import OwnedTasks, WakeableLoop

log = logging.getLogger(__name__)

RECOVERED_CAUSE = "Hattın çağrı kurulum hata oranı olağan düzeyine döndü (otomatik kapatıldı)."


class FailureRateFaults:
    def __init__(self, database: Database, faults: FaultService, detector: FailureRate, *, check_s: float):
        self.database = database
        self.faults = faults
        self.detector = detector
        self._faults: dict[int, int] = {}  # trunk id -> the fault its current incident opened
        self._tasks = OwnedTasks()
        self._loop = WakeableLoop("trunk-failure-rate", self.check, interval_s=check_s)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._tasks.cancel()

    def on_outcome(self, trunk_id: int, direction: str, dial_status: str) -> None:
        """A TrunkCalls listener: only outbound attempts say how the trunk sets calls up."""
        if direction == "out" and self.detector.observe(trunk_id, time.monotonic(), dial_status):
            self._tasks.spawn(self._open(trunk_id), f"failure-rate-fault-{trunk_id}")

    async def _open(self, trunk_id: int) -> None:
        async with self.database.unit() as unit:
            fault = await self.faults.open_system_fault(unit, trunk_id, FAILURE_RATE)
        if fault is not None:
            self._faults[trunk_id] = fault.id
            log.warning("trunk %s: call-setup failures jumped, fault %s opened", trunk_id, fault.id)

    async def check(self) -> None:
        for trunk_id in self.detector.recovered(time.monotonic()):
            fault_id = self._faults.pop(trunk_id, None)
            async with self.database.unit() as unit:
                fault = await unit.session.get(Fault, fault_id) if fault_id else None
                if fault is not None and fault.status == "open":
                    await self.faults.resolve(unit, fault, {"cause": RECOVERED_CAUSE}, by="system")
        await self._forget_resolved()

    async def _forget_resolved(self) -> None:
        """An incident whose fault someone resolved meanwhile is over: a new jump opens a new one."""
        if not self._faults:
            return
        async with self.database.read() as session:
            for trunk_id, fault_id in list(self._faults.items()):
                fault = await session.get(Fault, fault_id)
                if fault is None or fault.status != "open":
                    self._faults.pop(trunk_id, None)
                    self.detector.end_incident(trunk_id)
