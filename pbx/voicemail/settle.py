"""A voicemail message exists once its recording has settled: then, in one transaction,
the row gets its duration, `voicemail.created` is written to the outbox, and (KOBİ and up,
an extension with an e-mail address) the e-mail it is owed becomes a row. A message
with nothing recorded is settled without either. Run after every call record (the
caller has hung up) and every interval; each pass is idempotent."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from pbx.db.models import Extension, Tenant, VoicemailMessage
from pbx.db.voicemail_tables import VoicemailMail
from pbx.services.voicemail import SETTLED_S, VoicemailService
from pbx.tasks import WakeableLoop

GIVE_UP = timedelta(minutes=15)  # longer than the longest message (300 s) and a slow Asterisk
BATCH = 200
NO_MAIL_PLANS = frozenset({"girisimci"})  # voicemail to e-mail is KOBİ and up


def mail_owed(plan: str, email: str | None) -> bool:
    return plan not in NO_MAIL_PLANS and bool(email)


class VoicemailSettler:
    def __init__(self, database, events, voicemail: VoicemailService, on_mail_owed=lambda: None,
                 interval_s: float = 30.0):
        self.database, self.events, self.voicemail = database, events, voicemail
        self.on_mail_owed = on_mail_owed
        # A poke waits a little longer than a recording takes to count as settled.
        self.loop = WakeableLoop("voicemail-settle", self.settle, interval_s=interval_s, debounce_s=SETTLED_S + 0.5,
                                 run_at_start=True)

    def on_call_record(self, _manager, _message) -> None:
        """AMI callback for Cdr: a call ended, perhaps after leaving a message."""
        self.loop.poke()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def settle(self) -> int:
        """Settles what has finished recording; returns how many messages were created. The
        files are looked at outside any transaction; only what settles takes a write."""
        async with self.database.read() as session:
            rows = (await session.execute(
                select(VoicemailMessage.id, VoicemailMessage.tenant_id, VoicemailMessage.file_id,
                       VoicemailMessage.created_at)
                .where(VoicemailMessage.settled_at.is_(None)).order_by(VoicemailMessage.id).limit(BATCH))).all()
        durations = {row.id: await asyncio.to_thread(self._duration_ms, row) for row in rows}
        finished = {id: ms for id, ms in durations.items() if ms is not None}
        if len(finished) < len(rows) or len(rows) == BATCH:
            self.loop.poke()  # still being recorded (or more to come): looked at again shortly
        return await self._settle(finished) if finished else 0

    async def _settle(self, finished: dict[int, int]) -> int:
        async with self.database.unit() as unit:
            rows = (await unit.session.execute(
                select(VoicemailMessage, Extension, Tenant.plan)
                .join(Extension, Extension.id == VoicemailMessage.extension_id)
                .join(Tenant, Tenant.id == VoicemailMessage.tenant_id)
                .where(VoicemailMessage.id.in_(finished), VoicemailMessage.settled_at.is_(None)))).all()
            created = owed = 0
            for message, extension, plan in rows:
                message.settled_at = datetime.now(timezone.utc)
                if finished[message.id] > 0:
                    message.duration_ms = finished[message.id]
                    created += 1
                    owed += await self._created(unit, message, extension, plan)
            if owed:
                unit.after_commit(self._poke_mail)
        return created

    async def _poke_mail(self) -> None:
        self.on_mail_owed()

    def _duration_ms(self, message) -> int | None:
        """The finished recording's length; 0: nothing was recorded; None: not finished yet."""
        done = self.voicemail.completed(message)
        if done is not None:
            return done
        path = self.voicemail.path(message)
        try:
            idle_s = time.time() - path.stat().st_mtime
        except OSError:
            idle_s = None
        age = datetime.now(timezone.utc) - message.created_at
        if (idle_s is not None and idle_s > 60) or age > GIVE_UP:
            return 0  # a moment of silence, or a caller who hung up before the tone
        return None

    async def _created(self, unit, message: VoicemailMessage, extension: Extension, plan: str) -> int:
        data = {"message_id": message.id, "extension": extension.number, "extension_id": extension.id,
                "caller": message.caller, "duration_ms": message.duration_ms,
                "duration_s": round(message.duration_ms / 1000), "at": message.created_at.isoformat()}
        await self.events.emit("voicemail.created", message.tenant_id, data, unit=unit,
                               dedupe_key=f"voicemail.created:{message.id}")
        if not mail_owed(plan, extension.email):
            return 0
        unit.session.add(VoicemailMail(tenant_id=message.tenant_id, message_id=message.id,
                                       to_address=extension.email))
        return 1
