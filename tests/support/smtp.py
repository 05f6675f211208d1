"""A local SMTP server (aiosmtpd) on the port the test stack's PBX_SMTP_PORT names; keeps
every message it accepts, parsed."""
from __future__ import annotations

import email
import email.policy

from aiosmtpd.controller import Controller

from tests.support.stack import SMTP_PORT


class _Keep:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Test-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int = SMTP_PORT) -> None:
        self.handler = _Keep()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)

    @property
    def messages(self) -> list:
        return self.handler.messages

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
