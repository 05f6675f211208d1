"""Keeps the routing snapshot (pbx/routing/snapshot.py) current, so that calls are
decided without touching the database.

Consistency rule: every committed write to a table it reads marks the snapshot stale, and
says which rows, before the write's request returns (Database.subscribe: commit listeners
run inside the unit); a call that finds it
stale waits for a rebuild that *started after* that mark. So a call never routes by
data older than the last write that had returned when the call arrived. Rebuilds run
one at a time in a task this object owns; writes that land during one are coalesced
into the next. With no call waiting, a rebuild after writes is delayed so that bulk
writes do not rebuild once per row. A rebuild reads back only the rows that were written
(by primary key) and changes only what they change (pbx/routing/snapshot_update.py): its
cost follows the writes, not the size of the tenant or of the database.
"""
from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Text, cast, select

from pbx.asterisk import configgen
from pbx.db.models import (
    Extension,
    Ivr,
    Number,
    Prompt,
    RingGroup,
    Schedule,
    Tenant,
    Trunk,
)
from pbx.db.unit import Database
from pbx.db.written import Written
from pbx.routing import snapshot, snapshot_update
from pbx.routing.snapshot import Rows, Snapshot
from pbx.routing.snapshot_update import Changes
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)


async def load(database: Database, previous: Snapshot | None = None) -> Snapshot:
    """Every row (at start-up): eight bulk reads, then a pure build (reusing the tenants of
    `previous` whose rows did not change)."""
    rows = Rows()
    async with database.read() as session:
        conn = await session.connection()
        for name, (columns, table) in _QUERIES.items():
            setattr(rows, name, _rows(name, await conn.execute(select(*columns).order_by(table.id))))
    return snapshot.build(rows, previous)


async def refresh(database: Database, previous: Snapshot, written: Written) -> Snapshot:
    """The next snapshot from the rows `written` names, read again by primary key (a table a
    statement wrote, rows unknown, is read whole). A write landing meanwhile may leave this
    one half-aware of it; that write has marked it stale and named its rows, so the next
    step (which every later call waits for) reads them again."""
    changes = Changes()
    async with database.read() as session:
        conn = await session.connection()
        for name, (columns, table) in _QUERIES.items():
            keys = written.rows.get(name, {})
            if _read_whole(name, written):
                changes.whole[name] = _rows(name, await conn.execute(select(*columns)))
            elif keys:
                found = {}
                ids = list(keys)
                for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):  # bound the IN list
                    found |= {r[0]: r for r in _rows(name, await conn.execute(
                        select(*columns).where(table.id.in_(chunk))))}
                if name == "tenants":
                    changes.tenants = {key: found.get(key) for key in keys}
                else:
                    changes.rows[name] = {key: (tenant_id, found.get(key)) for key, tenant_id in keys.items()}
    return snapshot_update.update(previous, changes)


def _read_whole(name: str, written: Written) -> bool:
    """A table a statement wrote (rows unknown); the trunks (few, and one write changes the
    default of all); a row deleted whose tenant is unknown (it could not be placed)."""
    keys = written.rows.get(name, {})
    return (name in written.whole or (name == "trunks" and bool(keys))
            or (name != "tenants" and None in keys.values()))


def _rows(name: str, result) -> list[tuple]:
    if name == "prompts":  # what Playback() is given
        return [(pid, tid, f"{configgen.AUDIO}/{tid}/{file_id}") for pid, tid, file_id in result]
    return [tuple(row) for row in result]


def _text(column):
    """JSON as stored: decoded only for the tenants that changed, and comparable as it is."""
    return cast(column, Text)


_QUERIES = {
    "tenants": ((Tenant.id, Tenant.plan, Tenant.international_calls, Tenant.recording_notice,
                 Tenant.max_concurrent_calls, Tenant.max_international_minutes, Tenant.max_call_attempts_per_minute,
                 Tenant.suspended),
                Tenant),
    "extensions": ((Extension.id, Extension.tenant_id, Extension.number, Extension.sip_username,
                    Extension.voicemail, Extension.record_calls), Extension),
    "numbers": ((Number.id, Number.tenant_id, Number.number, _text(Number.destination)), Number),
    "trunks": ((Trunk.sip_id, Trunk.default_outbound), Trunk),
    "prompts": ((Prompt.id, Prompt.tenant_id, Prompt.file_id), Prompt),
    "ivrs": ((Ivr.id, Ivr.tenant_id, Ivr.greeting_prompt_id, _text(Ivr.options), Ivr.timeout_seconds,
              Ivr.max_attempts, _text(Ivr.timeout_destination)), Ivr),
    "schedules": ((Schedule.id, Schedule.tenant_id, Schedule.timezone, _text(Schedule.weekly),
                   _text(Schedule.holidays)), Schedule),
    "ring_groups": ((RingGroup.id, RingGroup.tenant_id, _text(RingGroup.extensions), RingGroup.strategy,
                     RingGroup.ring_seconds, _text(RingGroup.next_destination)), RingGroup),
}
TABLES = frozenset(table.__tablename__ for _, table in _QUERIES.values())  # what the snapshot subscribes to


class RoutingSnapshots:
    def __init__(self, database: Database, *, idle_delay_s: float = 0.2, max_share: float = 0.1):
        self.database = database
        self.idle_delay_s = idle_delay_s  # with no call waiting, how long writes may pile up
        self.max_share = max_share  # and at most this share of the time goes to rebuilding
        self.current = Snapshot()
        self.last_build_s = 0.0
        self._wanted = 0  # bumped by every committed write
        self._pending = Written()  # what those writes wrote, not yet read back
        self._built = -1  # the _wanted value the current snapshot was started at
        self._rounds = 0  # rebuilds started
        self._failed_round = 0  # the last one that failed
        self._wake = asyncio.Event()  # a write happened
        self._urgent = asyncio.Event()  # a call waits
        self._done = asyncio.Condition()
        self._error: Exception | None = None
        self._tasks = OwnedTasks()

    def changed(self, written: Written) -> None:
        """A commit listener (of TABLES): synchronous, so the mark is made before the write returns."""
        self._pending.merge(written)
        self._wanted += 1
        self._wake.set()

    @property
    def stale(self) -> bool:
        return self._built < self._wanted

    async def start(self) -> None:
        self.current = await load(self.database)  # calls are routed from the first one on
        self._built = self._wanted
        self._tasks.spawn(self._run(), "routing-snapshot")

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def get(self) -> Snapshot:
        """The snapshot, current as of every write committed before this call."""
        if not self.stale:
            return self.current  # the hot path: no await, no I/O
        target, round_now = self._wanted, self._rounds
        self._urgent.set()
        async with self._done:
            # A rebuild already running when the call came may predate its write: only
            # one started later may fail the call.
            await self._done.wait_for(lambda: self._built >= target or self._failed_round > round_now)
            if self._built < target:
                raise self._error  # the rebuild failed; the dialplan takes its failure path
        return self.current

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._urgent.is_set():
                delay = max(self.idle_delay_s, self.last_build_s / self.max_share)
                try:
                    async with asyncio.timeout(delay):  # not wait_for: see pbx/tasks.py Clock.wait
                        await self._urgent.wait()
                except TimeoutError:
                    pass
            self._wake.clear()
            self._urgent.clear()
            await self._rebuild()

    async def _rebuild(self) -> None:
        target = self._wanted  # taken before the reads start: they see every write counted in it
        written = self._pending.take()
        self._rounds += 1
        started = time.perf_counter()
        try:
            fresh = await refresh(self.database, self.current, written)
        except Exception as exc:
            log.exception("rebuilding the routing snapshot failed")
            written.merge(self._pending)
            self._pending = written  # read them again next time
            self._error, self._failed_round = exc, self._rounds
            self._wake.set()  # try again (after the idle delay)
        else:
            self.current, self._built, self._error = fresh, target, None
        self.last_build_s = time.perf_counter() - started
        async with self._done:
            self._done.notify_all()
