"""Outgoing e-mail (voicemail to e-mail, outage notices, trial reminders) over SMTP with
aiosmtplib, configured by PBX_SMTP_*. One Mailer is made in the composition root and
handed to whoever sends; callers keep their own durable retry (a send that raises was
not accepted by the server and must be tried again)."""
from __future__ import annotations

from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText

import aiosmtplib

from pbx.config import Settings


class MailNotConfigured(RuntimeError):
    """PBX_SMTP_HOST is not set: nothing can be sent (the caller keeps what it owes)."""


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    tls: str = "none"  # none | starttls | tls
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Mailer":
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
                   settings.smtp_password, settings.smtp_tls)

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)  # UTF-8: Turkish letters go through as they are
        return message

    async def send(self, message: EmailMessage) -> None:
        """Raises when the server did not accept it (or mail is not configured)."""
        if not self.configured:
            raise MailNotConfigured("PBX_SMTP_HOST is not set")
        await aiosmtplib.send(message, **self._connection())

    def plain(self, to: str, subject: str, text: str) -> Message:
        """A plain UTF-8 text message, built with the stdlib's MIME classes: a sixth of what
        message() costs (its header registry parses every header), which counts when a fault
        owes thousands (bench/notices.py)."""
        message = MIMEText(text, "plain", "utf-8")
        message["From"], message["To"], message["Subject"] = self.sender, to, Header(subject, "utf-8")
        return message

    async def send_many(self, mails: list[tuple[str, str, str]]) -> list[Exception | None]:
        """Many (to, subject, text) mails over one connection (one connect, login and QUIT for
        all: the cost of a notice fan-out), each built just before it is sent so the event loop
        runs in between. Answers for each None (accepted) or why not; a dropped connection is
        opened again once, and what cannot be sent then is refused."""
        if not self.configured:
            return [MailNotConfigured("PBX_SMTP_HOST is not set")] * len(mails)
        outcomes: list[Exception | None] = []
        client, reconnected = aiosmtplib.SMTP(**self._connection()), False
        try:
            for to, subject, text in mails:
                try:
                    if not client.is_connected:
                        await client.connect()
                    await client.send_message(self.plain(to, subject, text))
                    outcomes.append(None)
                except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError, TimeoutError) as exc:
                    outcomes.append(exc)
                    if reconnected:  # the server is gone: the rest waits for the caller's retry
                        return outcomes + [exc] * (len(mails) - len(outcomes))
                    client.close()
                    reconnected = True
                except aiosmtplib.SMTPException as exc:  # this message refused; the connection goes on
                    outcomes.append(exc)
            return outcomes
        finally:
            await _quit(client)

    def _connection(self) -> dict:
        return {"hostname": self.host, "port": self.port, "username": self.user or None,
                "password": self.password or None, "use_tls": self.tls == "tls",
                "start_tls": self.tls == "starttls", "timeout": self.timeout_s}


async def _quit(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()
