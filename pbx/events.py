"""Domain events ("job.finished", "fraud.suspected", "call.ended", ...): the one way to
raise them. A tenant's event raised inside a unit of work is written to the outbox
(pbx/eventing/outbox.py) in that unit's transaction, with its id and per-tenant seq,
and published (live stream, webhook dispatcher, in-process listeners) only once the
unit has committed; never if it rolls back. One raised outside a unit gets a unit of
its own. Events of no tenant (asterisk.restarted) are only logged and offered to the
listeners."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pbx.eventing.outbox import NewEvent, write_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str
    tenant_id: int | None
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    published: dict | None = None  # as stored: id, seq, ... (None: not a tenant's event)


Listener = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self, database=None) -> None:
        """database: where events of no unit get one (None: they are only published)."""
        self.database = database
        self.listeners: list[Listener] = []
        self.sinks: list[Callable[[dict], None]] = []  # the stream hub, the webhook dispatcher: never wait

    async def emit(self, type: str, tenant_id: int | None, data: dict[str, Any], *, unit=None,
                   dedupe_key: str | None = None) -> None:
        """dedupe_key: an event made from something Asterisk may report twice (an AMI
        replay) is stored, and published, once per (tenant, dedupe_key)."""
        if unit is None and tenant_id is not None and self.database is not None:
            try:  # a unit of its own: its failure is the event's, not the caller's
                async with self.database.unit() as own:
                    return await self.emit(type, tenant_id, data, unit=own, dedupe_key=dedupe_key)
            except Exception:
                log.exception("event %s of tenant %s could not be stored", type, tenant_id)
                return None
        event = Event(type, tenant_id, data)
        if unit is None or tenant_id is None:
            if unit is None:
                return await self._deliver(event)
            return unit.after_commit(lambda: self._deliver(event))
        await self.emit_many([NewEvent(type, tenant_id, data, event.at, dedupe_key)], unit=unit)

    async def emit_many(self, new: list[NewEvent], *, unit) -> None:
        """Tenants' events in one go (a few statements per tenant): what emit does, for batches."""
        stored = [Event(p["type"], p["tenant_id"], p["data"], published=p)
                  for p in await write_events(unit.session, new)]
        if stored:
            unit.after_commit(lambda: self._deliver_all(stored))

    async def _deliver_all(self, events: list[Event]) -> None:
        for event in events:
            await self._deliver(event)

    async def _deliver(self, event: Event) -> None:
        log.info("event %s tenant=%s %s", event.type, event.tenant_id, event.data)
        if event.published is not None:
            for sink in self.sinks:
                try:
                    sink(event.published)
                except Exception:
                    log.exception("event sink failed for %s", event.type)
        for listener in self.listeners:
            try:
                await listener(event)
            except Exception:
                log.exception("event listener failed for %s", event.type)
