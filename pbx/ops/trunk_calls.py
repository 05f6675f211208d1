"""Which trunk each call used, from the AMI DialEnd events already let through for call
events: a dial to a trunk's endpoint is an outbound call through it, a dial from a trunk's
channel an inbound one. Stored in batches (call_trunks, one row per call and trunk) and joined
to the call records by linkedid for each trunk's answer rate, setup failures, jitter and loss."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert

from pbx.db.base import utcnow
from pbx.db.models import Call
from pbx.db.ops_tables import CallTrunk
from pbx.db.unit import Database
from pbx.ops.failure_rate import SETUP_FAILURES
from pbx.tasks import WakeableLoop

_ENDPOINT = re.compile(r"^PJSIP/(.+)-[0-9a-f]{8}$")


class TrunkCalls:
    def __init__(self, database: Database, trunk_for):
        """trunk_for(sip_id) -> trunk id or None (pbx/ops/monitor.py keeps the map)."""
        self.database = database
        self.trunk_for = trunk_for
        self._pending: list[dict] = []
        self.outcome_listeners: list = []  # listener(trunk_id, direction, dial_status), synchronous
        self._loop = WakeableLoop("trunk-calls", self.flush, interval_s=5.0, debounce_s=0.5)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.flush()

    def on_dial_end(self, _manager, message) -> None:
        for channel, direction in ((message.get("DestChannel"), "out"), (message.get("Channel"), "in")):
            match = _ENDPOINT.match(channel or "")
            trunk_id = self.trunk_for(match.group(1)) if match else None
            if trunk_id is not None and message.get("Linkedid"):
                status = str(message.get("DialStatus", ""))[:16]
                self._pending.append({"linkedid": str(message["Linkedid"])[:32], "trunk_id": trunk_id,
                                      "direction": direction, "dial_status": status, "at": utcnow()})
                self._loop.poke()
                for listener in self.outcome_listeners:
                    listener(trunk_id, direction, status)
                return

    async def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        async with self.database.unit() as unit:
            dialect = unit.session.bind.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            await unit.session.execute(insert(CallTrunk).values(rows).on_conflict_do_nothing())


WINDOW = timedelta(hours=1)
NO_CALLS = {"calls": 0, "answer_ratio": None, "setup_failures": 0, "jitter_ms": None, "loss_percent": None}


async def trunk_figures(session, since: datetime | None = None, trunk_id: int | None = None) -> dict[int, dict]:
    """Per trunk (or the one trunk_id) over the window (default the last hour): calls,
    answered share, setup failures, and the mean jitter and loss of its calls' records."""
    since = since or utcnow() - WINDOW
    query = (select(CallTrunk.trunk_id, func.count(CallTrunk.id),
                    func.sum(case((CallTrunk.dial_status == "ANSWER", 1), else_=0)),
                    func.sum(case((CallTrunk.dial_status.in_(sorted(SETUP_FAILURES)), 1), else_=0)),
                    func.avg(Call.jitter_ms), func.avg(Call.loss_percent))
             .outerjoin(Call, and_(Call.linkedid == CallTrunk.linkedid))
             .where(CallTrunk.at >= since).group_by(CallTrunk.trunk_id))
    if trunk_id is not None:
        query = query.where(CallTrunk.trunk_id == trunk_id)
    figures = {}
    for trunk_id, calls, answered, failures, jitter, loss in await session.execute(query):
        figures[trunk_id] = {"calls": calls, "answer_ratio": (answered or 0) / calls if calls else None,
                             "setup_failures": failures or 0, "jitter_ms": jitter, "loss_percent": loss}
    return figures
