"""Sends the voicemail e-mails owed (voicemail_mails rows) through the Mailer. A row is
marked sent only after the SMTP server accepted the message; a failure (server down,
refused, mail not configured) leaves it pending with a later next_attempt_at on the
retry schedule (exponential, capped, jittered), with no end: a message is never lost,
and a restart picks up where the rows say. A crash between the server's acceptance and
the commit sends that one again; its Message-ID is the same."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from pbx.db.models import Extension, VoicemailMessage
from pbx.db.voicemail_tables import VoicemailMail
from pbx.eventing.retry import RetrySchedule
from pbx.mail import Mailer
from pbx.services.voicemail import VoicemailService
from pbx.tasks import WakeableLoop
from pbx.voicemail.mail_text import compose

log = logging.getLogger(__name__)
BATCH = 20


def schedule_from(spec: str) -> RetrySchedule:
    """"first,cap" seconds (PBX_MAIL_RETRY); "" = 30 s doubling to 1 h."""
    first, cap = (float(part) for part in spec.split(",")) if spec else (30.0, 3600.0)
    return RetrySchedule(first, cap, float("inf"))


class VoicemailMailer:
    def __init__(self, database, mailer: Mailer, voicemail: VoicemailService, schedule: RetrySchedule):
        self.database, self.mailer, self.voicemail, self.schedule = database, mailer, voicemail, schedule
        self.loop = WakeableLoop("voicemail-mail", self.send_due, interval_s=min(30.0, schedule.first_s),
                                 retry_s=schedule.first_s, run_at_start=True)

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def send_due(self) -> int:
        """Sends what is due; returns how many the server accepted."""
        async with self.database.read() as session:
            due = (await session.execute(
                select(VoicemailMail, VoicemailMessage, Extension)
                .join(VoicemailMessage, VoicemailMessage.id == VoicemailMail.message_id)
                .join(Extension, Extension.id == VoicemailMessage.extension_id)
                .where(VoicemailMail.status == "pending", VoicemailMail.next_attempt_at <= _now())
                .order_by(VoicemailMail.id).limit(BATCH))).all()
        sent = 0
        for mail, message, extension in due:
            error = await self._send(mail, message, extension)
            await self._record(mail.id, mail.attempts + 1, error)
            sent += error is None
        if len(due) == BATCH:
            self.loop.poke()  # more are due
        return sent

    async def _send(self, mail: VoicemailMail, message: VoicemailMessage, extension: Extension) -> str | None:
        try:
            audio = await asyncio.to_thread(self.voicemail.path(message).read_bytes)
            email = compose(self.mailer.message(mail.to_address, "", ""), extension_number=extension.number,
                            extension_name=extension.name, caller=message.caller, at=message.created_at,
                            duration_ms=message.duration_ms or 0, message_id=message.id, audio=audio)
            await self.mailer.send(email)
        except Exception as exc:  # the server said no, or was not there: tried again later
            log.warning("voicemail e-mail %s not sent (attempt %s): %s", mail.id, mail.attempts + 1, exc)
            return f"{type(exc).__name__}: {exc}"[:500]
        return None

    async def _record(self, mail_id: int, attempts: int, error: str | None) -> None:
        async with self.database.unit() as unit:
            row = await unit.session.get(VoicemailMail, mail_id)
            if row is None:  # the message was deleted meanwhile
                return
            row.attempts, row.last_error = attempts, error
            if error is None:
                row.status, row.sent_at = "sent", _now()
            else:
                row.next_attempt_at = _now() + timedelta(seconds=self.schedule.delay(attempts))


def _now() -> datetime:
    return datetime.now(timezone.utc)
