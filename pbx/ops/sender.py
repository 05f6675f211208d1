"""Sends the notices that fault openings and resolutions queued (pbx/ops/notices.py). Each
notice is one contact, one channel, one event: it is tried, the attempt logged, and marked
sent, or tried again later (PBX_NOTICE_RETRY_SECONDS, doubling) up to MAX_ATTEMPTS. Channels
go out side by side and each notice on its own, so a failing SMS provider delays no e-mail,
and each channel's outcomes are committed when that channel is through. A crash between a
provider's acceptance and that commit sends the notice again at the next start: the only way
to tell anyone twice."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
from sqlalchemy import select

from pbx.db.base import utcnow
from pbx.db.ops_tables import Fault, Notice, NoticeAttempt
from pbx.db.unit import Database
from pbx.ops import notices
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH = 500
IN_FLIGHT = {"sms": 32, "email": 16, "ivr": 4}  # bench/notices.py: 64 each was no faster (CPU-bound)


class NoticeSender:
    def __init__(self, database: Database, channels: dict, *, retry_s: float):
        """channels: name -> async send(notice, fault, tenant_name) raising on failure."""
        self.database = database
        self.channels = channels
        self.retry_s = retry_s
        self._limits = {name: asyncio.Semaphore(n) for name, n in IN_FLIGHT.items()}
        self._loop = WakeableLoop("notice-sender", self.send_due, interval_s=max(retry_s / 2, 1.0),
                                  debounce_s=0.05, run_at_start=True)

    def poke(self) -> None:
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def send_due(self) -> int:
        sent = 0
        while True:
            async with self.database.read() as session:
                due = list(await session.scalars(select(Notice).where(
                    Notice.status == "pending", Notice.next_attempt_at <= utcnow()).order_by(Notice.id).limit(BATCH)))
                faults = {f.id: f for f in await session.scalars(
                    select(Fault).where(Fault.id.in_({n.fault_id for n in due})))}
                names = {t: await notices.tenant_name(session, t) for t in {n.tenant_id for n in due}}
            if not due:
                return sent
            by_channel: dict[str, list[Notice]] = {}
            for notice in due:
                by_channel.setdefault(notice.channel, []).append(notice)
            sent += sum(await asyncio.gather(*(self._send(group, faults, names) for group in by_channel.values())))
            if len(due) < BATCH:
                return sent

    async def _send(self, group: list[Notice], faults: dict, names: dict) -> int:
        """One channel's notices of a batch, recorded as soon as they are through: a slow channel
        (an IVR call ringing, an SMS provider up to its timeout) holds back no other's record."""
        outcomes = await asyncio.gather(*(self._try(n, faults[n.fault_id], names[n.tenant_id]) for n in group))
        await self._record(group, outcomes)
        return sum(1 for ok, _ in outcomes if ok)

    async def _try(self, notice: Notice, fault: Fault, tenant_name: str) -> tuple[bool, str]:
        send = self.channels.get(notice.channel)
        async with self._limits[notice.channel]:
            try:
                if send is None:
                    raise RuntimeError(f"channel {notice.channel} is not configured")
                return True, (await send(notice, fault, tenant_name) or "accepted")[:300]
            except Exception as exc:  # every failure is the attempt's outcome, logged and retried
                log.warning("notice %s by %s failed: %s", notice.id, notice.channel, exc)
                return False, f"{type(exc).__name__}: {exc}"[:300]

    async def _record(self, due: list[Notice], outcomes: list[tuple[bool, str]]) -> None:
        now = utcnow()
        async with self.database.unit() as unit:
            for notice, (ok, detail) in zip(due, outcomes):
                row = await unit.session.get(Notice, notice.id)
                row.attempts += 1
                unit.session.add(NoticeAttempt(notice_id=row.id, at=now, ok=ok, detail=detail))
                if ok:
                    row.status = "sent"
                elif row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                else:
                    row.next_attempt_at = now + timedelta(seconds=self.retry_s * 2 ** (row.attempts - 1))


class Channels:
    """The three ways a contact is told."""

    def __init__(self, sms, mailer, ivr):
        self.sms, self.mailer, self.ivr = sms, mailer, ivr
        self._http: aiohttp.ClientSession | None = None

    def as_dict(self) -> dict:
        return {"sms": self.send_sms, "email": self.send_email, "ivr": self.call}

    async def send_sms(self, notice: Notice, fault: Fault, tenant_name: str) -> str:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        _, body = notices.text(fault, notice.event, tenant_name)
        return "jobid " + await self.sms.send(self._http, notice.address, body)

    async def send_email(self, notice: Notice, fault: Fault, tenant_name: str) -> str:
        subject, body = notices.text(fault, notice.event, tenant_name)
        await self.mailer.send(self.mailer.message(notice.address, subject, body))
        return "accepted by SMTP"

    async def call(self, notice: Notice, fault: Fault, tenant_name: str) -> str:
        return await self.ivr.call(notice, fault)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
