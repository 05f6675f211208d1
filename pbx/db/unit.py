"""One transaction per request; Asterisk work queued inside it runs only after commit."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


@dataclass
class Unit:
    session: AsyncSession
    _after_commit: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, job: AfterCommit) -> None:
        """Queues Asterisk work; dropped if the transaction rolls back."""
        self._after_commit.append(job)


class Database:
    def __init__(self, sessionmaker: async_sessionmaker, *, serialize_writes: bool = False):
        self.sessionmaker = sessionmaker
        # SQLite has one writer at a time and makes the others poll with growing
        # sleeps (seconds of tail latency under load); queueing writers here, in
        # order, is fair and wastes nothing. PostgreSQL needs no such help.
        self._write_lock = asyncio.Lock() if serialize_writes else contextlib.nullcontext()
        self.commit_listeners: list = []  # called after every committed write

    @asynccontextmanager
    async def unit(self, *, notify: bool = True):
        """notify=False: a write no listener cares about (call records, recordings, voicemail),
        so routing snapshots are not rebuilt for it."""
        async with self._write_lock, self.sessionmaker() as session:
            unit = Unit(session)
            async with session.begin():
                yield unit
        for listener in self.commit_listeners if notify else ():
            listener()
        for job in unit._after_commit:
            try:
                await job()
            except Exception:
                # The database is the truth; Asterisk catches up (e.g. a kick
                # that failed while AMI was down is harmless: the rows are gone).
                log.exception("after-commit Asterisk job failed")

    @asynccontextmanager
    async def read(self):
        async with self.sessionmaker() as session:
            yield session
