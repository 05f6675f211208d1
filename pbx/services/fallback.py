"""Keeps Asterisk's fallback snapshot current: after every committed change, when
AMI (re)connects, and every minute (schedules change with the clock)."""
from __future__ import annotations

from datetime import datetime, timezone

from pbx.asterisk.ami import Ami
from pbx.domain.errors import AsteriskUnavailable
from pbx.routing import fallback
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.tasks import Clock, WakeableLoop


class FallbackPublisher:
    """Publishes from the routing snapshot (current as of the last commit): no queries of its own."""

    def __init__(self, snapshots: RoutingSnapshots, ami: Ami, *, refresh_s: float = 60.0,
                 debounce_s: float = 0.3, clock: Clock | None = None):
        self.snapshots = snapshots
        self.ami = ami
        # One publish for a burst of changes.
        self._loop = WakeableLoop("fallback-publisher", self.publish_once, interval_s=refresh_s,
                                  debounce_s=debounce_s, clock=clock)
        # What astdb holds, as far as this process knows: later publishes send only the
        # difference (thousands of extensions are thousands of AMI actions). None: unknown.
        self._published: dict[str, str] | None = None

    def changed(self) -> None:
        self._loop.poke()

    def resync(self) -> None:
        """AMI (re)connected: Asterisk may have restarted or been changed meanwhile."""
        self._published = None
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def publish_once(self) -> None:
        if not self.ami.connected:
            return  # published again on login
        try:
            entries = fallback.entries(await self.snapshots.get(), datetime.now(timezone.utc))
            known, self._published = self._published, None  # unknown until this one is through
            await self.ami.replace_family(fallback.FAMILY, entries, known)
            self._published = entries
        except AsteriskUnavailable:
            self._loop.poke()  # it went away mid-publish: again once it is back (or now, if it is)
