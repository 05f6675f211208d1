"""Outgoing e-mail (voicemail to e-mail, outage notices, trial reminders) over SMTP with
aiosmtplib, configured by PBX_SMTP_*. One Mailer is made in the composition root and
handed to whoever sends; callers keep their own durable retry (a send that raises was
not accepted by the server and must be tried again)."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

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
        await aiosmtplib.send(
            message, hostname=self.host, port=self.port, username=self.user or None,
            password=self.password or None, use_tls=self.tls == "tls", start_tls=self.tls == "starttls",
            timeout=self.timeout_s)
