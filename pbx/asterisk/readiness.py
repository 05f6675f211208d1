"""Whether Asterisk can take calls: fully booted (the AMI `FullyBooted` event, which
Asterisk sends once it has loaded every module, and to each new AMI session after that)
and answering SIP (one OPTIONS probe per AMI session). The AMI port opens seconds before
either: saying "ready" then sent phones to an exchange that could not register them.
"""
from __future__ import annotations

import asyncio
import logging
import secrets

from pbx.asterisk.ami import Ami
from pbx.tasks import OwnedTasks

log = logging.getLogger(__name__)


class SipReadiness:
    def __init__(self, ami: Ami, host: str, port: int, *, probe_timeout: float = 1.0, retry_s: float = 0.5):
        self.ami, self.port, self.probe_timeout, self.retry_s = ami, port, probe_timeout, retry_s
        self.host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # bound to all: ask it here
        self._booted = False
        self._answered = asyncio.Event()
        self._tasks = OwnedTasks()

    def on_fully_booted(self, _manager, _message) -> None:
        """AMI event handler (registered in the composition root): probe SIP until it answers."""
        if not self._booted:
            self._booted = True
            self._tasks.spawn(self._probe(), "sip-probe")

    def on_disconnect(self) -> None:
        """The AMI session is gone: the next one says again whether Asterisk is booted."""
        self._booted = False
        self._answered.clear()

    def ready(self) -> bool:
        """The one check others can call (/health, `pbx up`, supervision): no I/O, no wait."""
        return self.ami.connected and self._booted and self._answered.is_set()

    async def wait(self, interval: float = 0.2) -> None:
        while not self.ready():
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _probe(self) -> None:
        while self._booted and not await options_probe(self.host, self.port, self.probe_timeout):
            await asyncio.sleep(self.retry_s)
        if self._booted:
            self._answered.set()
            log.info("Asterisk is fully booted and answers SIP")


class _Answer(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answered = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, _addr) -> None:
        if data.startswith(b"SIP/2.0 ") and not self.answered.done():
            self.answered.set_result(True)


async def options_probe(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a SIP OPTIONS to host:port gets any SIP answer (a 401 or 404 is an answer too)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Answer, remote_addr=(host, port))
    try:
        local_host, local_port = transport.get_extra_info("sockname")[:2]
        tag = secrets.token_hex(8)
        transport.sendto((
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {local_host}:{local_port};branch=z9hG4bK{tag};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:health@{local_host}>;tag={tag}\r\nTo: <sip:{host}:{port}>\r\n"
            f"Call-ID: {tag}@pbx-health\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        ).encode())
        return await asyncio.wait_for(protocol.answered, timeout)
    except (TimeoutError, OSError):
        return False
    finally:
        transport.close()
