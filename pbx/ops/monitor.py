"""Trunk reachability from Asterisk's own OPTIONS qualify: every trunk's AOR is qualified
(pbx/asterisk/trunks.py), and each result arrives as an AMI ContactStatus event. Nothing
here polls; after an AMI (re)login the trunks' current state is read once, since events
may have been missed meanwhile.

A change of reachability is stored (trunk_status: reachable, since) and handed to the
listeners (the fault service opens or resolves a fault); the RTT of each qualify is kept in
memory only (the next qualify brings it again). What is stored is remembered too, so a
qualify that changes nothing (most of them, one per trunk every qualify period) costs no
transaction; any write of trunk_status (ours, or another node's relayed) makes it read again."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pbx.db.base import utcnow
from pbx.db.models import Trunk
from pbx.db.ops_tables import TrunkStatus
from pbx.db.unit import Database
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)

REACHABLE, UNREACHABLE = "Reachable", "Unreachable"


@dataclass(frozen=True)
class Change:
    trunk_id: int
    reachable: bool
    at: datetime


Listener = Callable[[Change], Awaitable[None]]


class TrunkMonitor:
    STATUS_TABLES = (TrunkStatus.__tablename__,)  # whose writes (any node's) status_written hears

    def __init__(self, database: Database, ami):
        self.database = database
        self.ami = ami
        self.listeners: list[Listener] = []
        self.rtt_ms: dict[int, float] = {}
        self._stored: dict[int, bool] = {}  # trunk id -> its trunk_status.reachable, as last read or written
        self._trunks: dict[str, int] = {}  # sip_id -> trunk id
        self._queue: asyncio.Queue = asyncio.Queue()  # results in Asterisk's order, one at a time
        self._tasks = OwnedTasks()

    def start(self) -> None:
        self._tasks.spawn(self._work(), "trunk-monitor")

    async def stop(self) -> None:
        await self._tasks.cancel()

    def trunks_changed(self, _written=None) -> None:
        self._queue.put_nowait(("reload", None, None))

    def status_written(self, _written=None) -> None:
        self._queue.put_nowait(("forget", None, None))

    def on_contact_status(self, _manager, message) -> None:
        status = message.get("ContactStatus")
        if status in (REACHABLE, UNREACHABLE):
            self._queue.put_nowait((message.get("AOR"), status == REACHABLE, _rtt(message.get("RoundtripUsec"))))

    def trunk_for(self, sip_id: str) -> int | None:
        return self._trunks.get(sip_id)

    def on_login(self) -> None:
        self._queue.put_nowait(("resync", None, None))

    async def _work(self) -> None:
        await self._reload()
        while True:
            aor, reachable, rtt = await self._queue.get()
            try:
                if aor == "reload":
                    await self._reload()
                elif aor == "forget":
                    self._stored.clear()
                elif aor == "resync":
                    await self._resync()
                elif aor in self._trunks:
                    await self._observed(self._trunks[aor], reachable, rtt)
            except Exception:
                log.exception("trunk status %s could not be recorded", aor)

    async def _reload(self) -> None:
        async with self.database.read() as session:
            self._trunks = dict((await session.execute(select(Trunk.sip_id, Trunk.id))).all())

    async def _resync(self) -> None:
        await self._reload()
        for sip_id, trunk_id in list(self._trunks.items()):
            for contact in await self.ami.contact_statuses(sip_id):
                if contact["status"] in (REACHABLE, UNREACHABLE):
                    await self._observed(trunk_id, contact["status"] == REACHABLE, _rtt(contact["rtt_usec"]))

    async def _observed(self, trunk_id: int, reachable: bool, rtt: float | None) -> None:
        self.rtt_ms[trunk_id] = rtt if reachable else None
        if trunk_id not in self._stored:
            async with self.database.read() as session:
                row = await session.get(TrunkStatus, trunk_id)
            if row is not None:
                self._stored[trunk_id] = row.reachable
        if self._stored.get(trunk_id) != reachable:
            await self._changed(trunk_id, reachable)

    async def _changed(self, trunk_id: int, reachable: bool) -> None:
        async with self.database.unit() as unit:
            row = await unit.session.get(TrunkStatus, trunk_id)
            if row is not None and row.reachable == reachable:
                self._stored[trunk_id] = reachable
                return
            change = Change(trunk_id, reachable, utcnow())
            if row is None:
                unit.session.add(TrunkStatus(trunk_id=trunk_id, reachable=reachable, since=change.at))
            else:
                row.reachable, row.since = reachable, change.at
        self._stored[trunk_id] = reachable
        log.info("trunk %s is %s", trunk_id, "reachable" if reachable else "UNREACHABLE")
        for listener in self.listeners:
            await listener(change)

    async def status(self, trunk_id: int) -> dict:
        async with self.database.read() as session:
            row = await session.get(TrunkStatus, trunk_id)
        if row is None:
            return {"reachable": None, "since": None, "rtt_ms": None}
        rtt = self.rtt_ms.get(trunk_id)
        if row.reachable and rtt is None:
            rtt = await self._asked_rtt(trunk_id)
        return {"reachable": row.reachable, "since": row.since, "rtt_ms": rtt}

    async def _asked_rtt(self, trunk_id: int) -> float | None:
        """Asterisk reports ContactStatus when the state changes; a state learnt at login (after
        an Asterisk restart) can come without its RTT: then Asterisk is asked for the last qualify's."""
        sip_id = next((sip for sip, known in self._trunks.items() if known == trunk_id), None)
        if sip_id is None:
            return None
        try:
            found = [_rtt(c["rtt_usec"]) for c in await self.ami.contact_statuses(sip_id) if c["status"] == REACHABLE]
        except Exception:  # Asterisk away: no figure, as before
            return None
        rtt = next((r for r in found if r is not None), None)
        if rtt is not None:
            self.rtt_ms[trunk_id] = rtt
        return rtt


def _rtt(usec: str | None) -> float | None:
    try:
        return round(int(usec) / 1000, 3) if usec not in (None, "", "N/A") else None
    except ValueError:
        return None
