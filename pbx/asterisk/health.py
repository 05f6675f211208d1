"""Can the exchange take calls? The one place that decides it (`/health` answers 503 while
not), and that notices when Asterisk has been restarted underneath the control plane.

Ready = AMI logged in, Asterisk fully booted and answering SIP (pbx/asterisk/readiness.py): AMI accepts logins while modules are still
loading (with 30,000 extensions SIP answered two minutes later), and Asterisk sends
`FullyBooted` to a session at login once it is booted, or to every session when it gets
there. A restart shows as a new start time in `CoreStatus` after a FullyBooted: whoever
restarted it (`pbx up`'s supervisor, systemd, Docker), the control plane raises
`asterisk.restarted`."""
from __future__ import annotations

import asyncio
import logging

from pbx.asterisk.ami import Ami
from pbx.asterisk.readiness import SipReadiness
from pbx.domain.errors import AsteriskUnavailable
from pbx.events import EventBus

log = logging.getLogger(__name__)


class ExchangeHealth:
    def __init__(self, ami: Ami, events: EventBus, sip: SipReadiness):
        self.ami = ami
        self.sip = sip
        self.events = events
        self.booted = False
        self._started_at: str | None = None  # Asterisk's start, as CoreStatus gives it
        self._checks: set[asyncio.Task] = set()

    @property
    def ready(self) -> bool:
        return self.ami.connected and self.booted and self.sip.ready()

    def status(self) -> dict:
        return {"ok": self.ready, "asterisk": self.ami.connected, "fully_booted": self.booted,
                "sip": self.sip.ready()}

    def connection_lost(self) -> None:
        self.booted = False

    def on_fully_booted(self, _manager, _message) -> None:
        self.booted = True
        task = asyncio.get_running_loop().create_task(self._check_restart())
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check_restart(self) -> None:
        # The FullyBooted that Asterisk sends at login can arrive before the login is complete.
        if not await self.ami.wait_connected(10):
            return
        try:
            reply = (await self.ami.action({"Action": "CoreStatus"}))[0]
        except AsteriskUnavailable:
            return  # gone again; the next FullyBooted asks again
        started_at = f"{reply.get('CoreStartupDate', '')} {reply.get('CoreStartupTime', '')}".strip()
        previous, self._started_at = self._started_at, started_at
        if previous is not None and started_at != previous:
            log.warning("Asterisk was restarted (started %s, before %s)", started_at, previous)
            await self.events.emit("asterisk.restarted", None, {"started_at": started_at,
                                                                "previous_started_at": previous})

    async def stop(self) -> None:
        for task in list(self._checks):
            task.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)
