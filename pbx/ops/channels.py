"""The three ways a contact is told, each taking its notices the way its provider does best
(bench/notices.py: one HTTP request or one SMTP connection per notice was what made 2,000 of
each take 90 s):
- SMS: up to SMS_PER_REQUEST notices in one Netgsm request (its REST v2 send takes a list of
  messages, each with its own text and number); Netgsm accepts or refuses the request whole.
- E-mail: up to MAILS_PER_CONNECTION over one SMTP connection (pbx/mail.py send_many),
  SMTP_CONNECTIONS at once; each message is accepted or refused on its own.
- IVR call: one call per notice, a few at once."""
from __future__ import annotations

import aiohttp

from pbx.ops import notices
from pbx.ops.sender import Channel, Outcome, Outgoing, each

SMS_PER_REQUEST, SMS_REQUESTS_IN_FLIGHT = 100, 4
# An e-mail is four round trips (MAIL, RCPT, DATA, the text): on a loaded machine each waits to
# be scheduled, so more connections side by side is what helps (bench/notices.py: 4 took 86 s).
MAILS_PER_CONNECTION, SMTP_CONNECTIONS = 25, 16
IVR_CALLS_AT_ONCE = 4


class Channels:
    def __init__(self, sms, mailer, ivr):
        self.sms, self.mailer, self.ivr = sms, mailer, ivr
        self._http: aiohttp.ClientSession | None = None

    def as_dict(self, names: tuple[str, ...] = ("sms", "email", "ivr")) -> dict[str, Channel]:
        """The channels by name, those named only (each is sent by one process: pbx/worker.py)."""
        every = {"sms": Channel(self.send_sms, SMS_PER_REQUEST, SMS_REQUESTS_IN_FLIGHT),
                 "email": Channel(self.send_email, MAILS_PER_CONNECTION, SMTP_CONNECTIONS),
                 "ivr": each(self.call, batch=IVR_CALLS_AT_ONCE)}
        return {name: every[name] for name in names}

    async def send_sms(self, items: list[Outgoing]) -> list[Outcome]:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        messages = [(i.notice.address, notices.text(i.fault, i.notice.event, i.tenant_name)[1]) for i in items]
        job = await self.sms.send_many(self._http, messages)  # raises: the whole request was refused
        return [f"jobid {job}"] * len(items)

    async def send_email(self, items: list[Outgoing]) -> list[Outcome]:
        mails = [(i.notice.address, *notices.text(i.fault, i.notice.event, i.tenant_name)) for i in items]
        refusals = await self.mailer.send_many(mails)
        return [refusal or "accepted by SMTP" for refusal in refusals]

    async def call(self, notice, fault, tenant_name: str) -> str:
        return await self.ivr.call(notice, fault)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
