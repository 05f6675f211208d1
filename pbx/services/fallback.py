"""Keeps Asterisk's fallback snapshot current: after every committed change, when
AMI (re)connects, and every minute (schedules change with the clock)."""
from __future__ import annotations

from datetime import datetime, timezone

from pbx.asterisk.ami import Ami
from pbx.asterisk.astdb_publisher import AstdbPublisher
from pbx.domain.errors import AsteriskUnavailable
from pbx.routing import fallback
from pbx.routing.snapshot import Snapshot
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.tasks import Clock


class FallbackPublisher(AstdbPublisher):
    """Publishes from the routing snapshot (current as of the last commit): no queries of its own."""

    def __init__(self, snapshots: RoutingSnapshots, ami: Ami, *, refresh_s: float = 60.0,
                 debounce_s: float = 0.3, clock: Clock | None = None):
        super().__init__("fallback-publisher", ami, interval_s=refresh_s, debounce_s=debounce_s, clock=clock)
        self.snapshots = snapshots
        # Later publishes work out and send only the difference from what was published and
        # the snapshot it came from (thousands of extensions are thousands of AMI actions, and
        # walking them all would stall the event loop at every write).
        self._basis: Snapshot | None = None
        self._numbers: dict[str, str] = {}

    async def publish_once(self) -> None:
        if not self.ami.connected:
            return  # published again on login
        try:
            snap, now = await self.snapshots.get(), datetime.now(timezone.utc)
            known, self._published = self._published, None  # unknown until this one is through
            if known is None:
                entries = fallback.entries(snap, now)
                self._numbers = fallback.number_entries(snap, now)
                await self.ami.replace_family(fallback.FAMILY, entries)
            else:
                entries = known
                put, gone = self._difference(known, snap, now)
                await self.ami.update_family(fallback.FAMILY, put, gone)
                entries |= put
                for key in gone:
                    entries.pop(key, None)
            self._published, self._basis = entries, snap
        except AsteriskUnavailable:
            self._loop.poke()  # it went away mid-publish: again once it is back (or now, if it is)

    def _difference(self, known: dict[str, str], snap: Snapshot, now: datetime) -> tuple[dict, set]:
        put, gone = fallback.extension_delta(self._basis, snap)
        numbers = fallback.number_entries(snap, now)
        put |= numbers
        gone |= self._numbers.keys() - numbers.keys()  # the did/ keys last published
        self._numbers = numbers
        return {key: value for key, value in put.items() if known.get(key) != value}, gone - put.keys()
