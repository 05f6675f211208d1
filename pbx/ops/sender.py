"""Sends the notices that fault openings and resolutions queued (pbx/ops/notices.py). Each
notice is one contact, one channel, one event: it is tried, the attempt logged, and marked
sent, or tried again later (PBX_NOTICE_RETRY_SECONDS, doubling) up to MAX_ATTEMPTS.

Each channel works through its own due notices on its own (a failing or slow SMS provider
delays no e-mail), in batches its provider takes at once (pbx/ops/channels.py: many SMS in
one Netgsm request, many e-mails over one SMTP connection), several batches in flight, in
rounds of one wave of them. A
batch's outcomes are committed as soon as it is through, in one transaction (bulk update of
the notices, bulk insert of their attempts). A crash between a provider's acceptance and
that commit sends the batch again at the next start: the only way to tell anyone twice."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update

from pbx.db.base import utcnow
from pbx.db.models import Tenant
from pbx.db.ops_tables import Fault, Notice, NoticeAttempt
from pbx.db.unit import Database
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Outgoing:
    notice: Notice
    fault: Fault
    tenant_name: str


Outcome = str | BaseException  # what the provider said on acceptance, or why not
BatchSend = Callable[[list[Outgoing]], Awaitable[list[Outcome]]]


@dataclass(frozen=True)
class Channel:
    """How a channel takes its notices: `send` gets up to `batch` of them and answers one
    outcome each; `in_flight` batches go out at once."""
    send: BatchSend
    batch: int = 1
    in_flight: int = 1


def each(send_one: Callable[[Notice, Fault, str], Awaitable[str]], *, batch: int = 4, in_flight: int = 1) -> Channel:
    """A channel whose provider takes one notice at a time (an IVR call): a batch's notices go
    side by side."""
    async def send(items: list[Outgoing]) -> list[Outcome]:
        return await asyncio.gather(*(send_one(i.notice, i.fault, i.tenant_name) for i in items),
                                    return_exceptions=True)
    return Channel(send, batch, in_flight)


class NoticeSender:
    """Sends the notices of the channels it is given (the outbound worker takes SMS and e-mail,
    the control plane the IVR calls it makes over its AMI): one sender per channel."""

    def __init__(self, database: Database, channels: dict[str, Channel], *, retry_s: float):
        self.database = database
        self.channels = channels
        self.retry_s = retry_s
        self._loop = WakeableLoop("notice-sender", self.send_due, interval_s=max(retry_s / 2, 1.0),
                                  debounce_s=0.05, run_at_start=True)

    def poke(self) -> None:
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def send_due(self) -> int:
        """Every channel's due notices, the channels side by side; returns how many were sent."""
        return sum(_all_through(await asyncio.gather(*(self._send_channel(name) for name in self.channels),
                                                     return_exceptions=True)))

    async def _send_channel(self, name: str) -> int:
        """Rounds of one wave each: as many due notices as the channel's batches in flight take
        (a round waits for its slowest batch; a second, partial wave would leave most idle)."""
        channel = self.channels[name]
        wave = channel.batch * channel.in_flight
        sent = 0
        while due := await self._due(name, wave):
            batches = [due[i:i + channel.batch] for i in range(0, len(due), channel.batch)]
            sent += sum(_all_through(await asyncio.gather(
                *(self._send_batch(channel, batch) for batch in batches), return_exceptions=True)))
            if len(due) < wave:
                break
        return sent

    async def _due(self, channel: str, limit: int) -> list[Outgoing]:
        async with self.database.read() as session:
            due = list(await session.scalars(select(Notice).where(
                Notice.channel == channel, Notice.status == "pending", Notice.next_attempt_at <= utcnow())
                .order_by(Notice.id).limit(limit)))
            if not due:
                return []
            faults = {f.id: f for f in await session.scalars(select(Fault).where(Fault.id.in_({n.fault_id for n in due})))}
            names = dict((await session.execute(select(Tenant.id, Tenant.name).where(
                Tenant.id.in_({n.tenant_id for n in due})))).all())
        return [Outgoing(n, faults[n.fault_id], names.get(n.tenant_id, "")) for n in due]

    async def _send_batch(self, channel: Channel, batch: list[Outgoing]) -> int:
        try:
            outcomes = list(await channel.send(batch))
        except Exception as exc:  # the whole batch failed: each notice's attempt says so
            outcomes = [exc] * len(batch)
        await self._record(batch, outcomes)
        return sum(1 for outcome in outcomes if not isinstance(outcome, BaseException))

    async def _record(self, batch: list[Outgoing], outcomes: list[Outcome]) -> None:
        now = utcnow()
        changes, attempts = [], []
        for item, outcome in zip(batch, outcomes, strict=True):
            notice, ok = item.notice, not isinstance(outcome, BaseException)
            if not ok:
                log.warning("notice %s by %s failed: %s", notice.id, notice.channel, outcome)
            tries = notice.attempts + 1
            status = "sent" if ok else "failed" if tries >= MAX_ATTEMPTS else "pending"
            retry_at = now + timedelta(seconds=self.retry_s * 2 ** (tries - 1))
            changes.append({"id": notice.id, "attempts": tries, "status": status,
                            "next_attempt_at": retry_at if status == "pending" else notice.next_attempt_at})
            attempts.append({"notice_id": notice.id, "at": now, "ok": ok, "detail": _detail(outcome)})
        async with self.database.unit() as unit:
            await unit.session.execute(update(Notice), changes)  # by primary key, one statement
            await unit.session.execute(insert(NoticeAttempt), attempts)


def _all_through(results: list) -> list:
    """Raise the first failure only once every task is through: one still in flight when the
    next run reads the due notices would send its notices twice."""
    if failed := next((r for r in results if isinstance(r, BaseException)), None):
        raise failed
    return results


def _detail(outcome: Outcome) -> str:
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}"[:300]
    return (outcome or "accepted")[:300]

