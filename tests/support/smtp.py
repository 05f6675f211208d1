"""A local SMTP server (aiosmtpd) on the port the test stack's PBX_SMTP_PORT names, for
voicemail e-mail and outage notices alike; keeps every message it accepts, parsed. It
listens from construction until close() (or the end of a `with` block)."""
from __future__ import annotations

import email
import email.policy
import time

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
        self.controller.start()

    @property
    def messages(self) -> list:
        return self.handler.messages

    def wait_for(self, predicate, timeout: float = 30) -> list:
        """The messages that match once one does, or [] after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if hits := [m for m in list(self.messages) if predicate(m)]:
                return hits
            time.sleep(0.1)
        return [m for m in list(self.messages) if predicate(m)]

    def close(self) -> None:
        self.controller.stop()

    def __enter__(self) -> "SmtpServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
