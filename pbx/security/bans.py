"""SIP brute-force bans: Asterisk's security events (over AMI) are counted per source
address; an address that fails too often is banned (a row, so the ban survives restarts)
and the kernel drops its SIP packets (pbx/security/nftables.py) until the ban expires or
an operator lifts it. Addresses in the allowlist are never banned."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from pbx.db.models import SipBan, SipBanAllowed
from pbx.db.unit import Database, Unit
from pbx.domain.errors import NotFound
from pbx.events import EventBus
from pbx.security.failures import FailureWindow, allowed, source_address
from pbx.security.nftables import NftBans

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BanPolicy:
    failures: int = 10
    window_s: float = 60.0
    ban_s: float = 900.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _active(query=None):
    return (query if query is not None else select(SipBan)).where(
        SipBan.lifted_at.is_(None), SipBan.expires_at > _now())


class SipBans:
    def __init__(self, database: Database, enforcer: NftBans, policy: BanPolicy, events: EventBus):
        self.database, self.enforcer, self.policy, self.events = database, enforcer, policy, events
        self.window = FailureWindow(policy.failures, policy.window_s)
        self.allowlist: list[str] = []
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        async with self.database.read() as session:
            self.allowlist = list(await session.scalars(select(SipBanAllowed.network)))
            bans = list(await session.scalars(_active()))
        now = _now()
        await self.enforcer.start([(b.address, int((b.expires_at - now).total_seconds())) for b in bans])

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.enforcer.stop()

    def on_security_event(self, _manager, message) -> None:
        """AMI callback: one failed authentication (SECURITY_EVENTS) of a SIP peer."""
        if message.get("Service") != "PJSIP":
            return  # AMI's own login failures, say, are not SIP scanners
        address = source_address(str(message.get("RemoteAddress", "")))
        if address is None or allowed(address, self.allowlist):
            return
        failures = self.window.failed(address, time.monotonic())
        if failures is not None:
            task = asyncio.get_running_loop().create_task(self.ban(address, failures))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def ban(self, address: str, failures: int) -> None:
        async with self.database.unit() as unit:
            if await unit.session.scalar(_active().where(SipBan.address == address)) is not None:
                return
            now = _now()
            unit.session.add(SipBan(address=address, failures=failures, banned_at=now,
                                    expires_at=now + timedelta(seconds=self.policy.ban_s)))
            unit.after_commit(lambda: self.enforcer.ban(address, int(self.policy.ban_s)))
            await self.events.emit("sip.banned", None, {"address": address, "failures": failures}, unit=unit)
        log.warning("SIP: banned %s for %ds after %d failed authentications", address, self.policy.ban_s, failures)

    async def active(self, session) -> list[SipBan]:
        return list(await session.scalars(_active().order_by(SipBan.id)))

    async def lift(self, unit: Unit, ban_id: int) -> None:
        ban = await unit.session.scalar(_active().where(SipBan.id == ban_id))
        if ban is None:
            raise NotFound("no such active SIP ban")
        self._lift(unit, [ban])

    def _lift(self, unit: Unit, bans: list[SipBan]) -> None:
        now = _now()
        for ban in bans:
            ban.lifted_at = now
            unit.after_commit(lambda address=ban.address: self.enforcer.lift(address))

    async def replace_allowlist(self, unit: Unit, networks: list[str]) -> None:
        """The never-banned networks become exactly these; active bans inside them are lifted."""
        await unit.session.execute(delete(SipBanAllowed))
        unit.session.add_all([SipBanAllowed(network=n) for n in networks])
        self._lift(unit, [b for b in await unit.session.scalars(_active()) if allowed(b.address, networks)])

        async def take_effect() -> None:
            self.allowlist = list(networks)
        unit.after_commit(take_effect)
