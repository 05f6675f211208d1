"""Mailer.send_many: many messages over one SMTP connection, each accepted or refused on its
own (a local aiosmtpd that refuses one recipient)."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket

from aiosmtpd.controller import Controller

from pbx.mail import Mailer


class _Counting:
    def __init__(self) -> None:
        self.greetings, self.accepted, self.parsed = 0, [], []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted.extend(envelope.rcpt_tos)
        self.parsed.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_many_messages_go_over_one_connection_and_a_refused_one_stops_no_other():
    handler, port = _Counting(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = Mailer("127.0.0.1", port, "santral@example.com")
        to = [f"k{i}@t.example.com" for i in range(30)]
        to[7] = "refused@t.example.com"
        outcomes = asyncio.run(mailer.send_many([(a, "Arıza bildirimi", "Gövde: ğüşıöç") for a in to]))
    finally:
        controller.stop()
    assert handler.greetings == 1
    assert [i for i, o in enumerate(outcomes) if o is not None] == [7]
    assert handler.accepted == [a for a in to if not a.startswith("refused@")]
    first = handler.parsed[0]  # Turkish letters intact in the subject and the body
    assert first["Subject"] == "Arıza bildirimi" and first["To"] == to[0] and first["From"] == "santral@example.com"
    assert first.get_content().strip() == "Gövde: ğüşıöç"


def test_an_unreachable_server_refuses_every_message_without_raising():
    mailer = Mailer("127.0.0.1", _free_port(), "santral@example.com", timeout_s=2)
    outcomes = asyncio.run(mailer.send_many([(f"k{i}@t.example.com", "A", "B") for i in range(5)]))
    assert len(outcomes) == 5 and all(isinstance(o, Exception) for o in outcomes)
