"""Domain events ("job.finished", "fraud.suspected", "asterisk.restarted", ...): one way to
raise them, so the durable outbox, the WebSocket stream and webhooks can later take them
over in one place. Until then an event is logged and offered to the in-process listeners
that the composition root (`pbx/app.py`) registers.

An event raised inside a unit of work is delivered only once that unit has committed (and
never if it rolls back); one raised outside a unit is delivered at once."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str
    tenant_id: int | None
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


Listener = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    async def emit(self, type: str, tenant_id: int | None, data: dict[str, Any], *, unit=None) -> None:
        event = Event(type, tenant_id, data)
        if unit is not None:
            unit.after_commit(lambda: self._deliver(event))
        else:
            await self._deliver(event)

    async def _deliver(self, event: Event) -> None:
        log.info("event %s tenant=%s %s", event.type, event.tenant_id, event.data)
        for listener in self.listeners:
            try:
                await listener(event)
            except Exception:
                log.exception("event listener failed for %s", event.type)
