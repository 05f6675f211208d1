"""One transaction per request; Asterisk work queued inside it runs only after commit.

The unit learns what its transaction wrote (pbx/db/written.py) and, once it is committed,
tells the subscribers of those tables: a writer cannot forget to, and a write that no
subscriber reads (a call record, say) wakes none of them.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pbx.db.written import Written, WriteTracker

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
CommitListener = Callable[[Written], None]


@dataclass
class Unit:
    session: AsyncSession
    _after_commit: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, job: AfterCommit) -> None:
        """Queues Asterisk work; dropped if the transaction rolls back."""
        self._after_commit.append(job)


@dataclass(frozen=True)
class _Subscription:
    tables: frozenset[str]
    listener: CommitListener


class Database:
    def __init__(self, sessionmaker: async_sessionmaker, *, serialize_writes: bool = False):
        self.sessionmaker = sessionmaker
        # SQLite has one writer at a time and makes the others poll with growing
        # sleeps (seconds of tail latency under load); queueing writers here, in
        # order, is fair and wastes nothing. PostgreSQL needs no such help.
        self._write_lock = asyncio.Lock() if serialize_writes else contextlib.nullcontext()
        self._subscriptions: list[_Subscription] = []

    def subscribe(self, tables: Iterable[str], listener: CommitListener) -> None:
        """`listener(written)` runs synchronously after every committed transaction that wrote
        one of `tables`, before the writer's request returns."""
        self._subscriptions.append(_Subscription(frozenset(tables), listener))

    @asynccontextmanager
    async def unit(self):
        async with self._write_lock, self.sessionmaker() as session:
            unit = Unit(session)
            tracker = WriteTracker()
            _track(session, tracker)
            async with session.begin():
                yield unit
        self._notify(tracker.written)
        for job in unit._after_commit:
            try:
                await job()
            except Exception:
                # The database is the truth; Asterisk catches up (e.g. a kick
                # that failed while AMI was down is harmless: the rows are gone).
                log.exception("after-commit Asterisk job failed")

    def subscribed_tables(self) -> frozenset[str]:
        """Every table some listener follows (a cluster relays the writes to these)."""
        return frozenset().union(*(s.tables for s in self._subscriptions))

    def announce(self, written: Written, *, skip: CommitListener | None = None) -> None:
        """Tells the subscribers of a write committed elsewhere (another cluster node), as if it
        were this process's own; `skip`: the listener that relays them (it must not echo it)."""
        for subscription in self._subscriptions:
            if subscription.listener != skip and not subscription.tables.isdisjoint(written.tables):
                subscription.listener(written)

    def _notify(self, written: Written) -> None:
        self.announce(written)

    @asynccontextmanager
    async def read(self):
        async with self.sessionmaker() as session:
            yield session


def _track(session: AsyncSession, tracker: WriteTracker) -> None:
    """Session-local listeners: they live and die with this unit's session."""
    sync = session.sync_session
    event.listen(sync, "after_flush", tracker.after_flush)
    event.listen(sync, "do_orm_execute", tracker.on_execute)
