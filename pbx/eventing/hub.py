"""Live fan-out to WebSocket subscribers. Publishing never waits: each subscriber has
a bounded queue, and one that falls that far behind is cut off (it reconnects with
?after=<seq> and replays from the outbox), so a slow reader slows no call and no
other subscriber."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property


class Frame(dict):
    """An event as queued to subscribers: the same dict, with its JSON text made once for all
    of them (200 subscribers were 200 json.dumps of each event: bench/fanout.py)."""

    @cached_property
    def text(self) -> str:
        return json.dumps(self, ensure_ascii=False)


@dataclass(eq=False)
class Subscriber:
    tenant_id: int
    extension: str | None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(Hub.QUEUE_MAX))
    overflowed: bool = False
    going_away: bool = False  # the control plane is stopping

    def wants(self, event: dict) -> bool:
        return self.extension is None or self.extension in _extensions_of(event["data"])


def _extensions_of(data: dict) -> set[str]:
    return {str(data[name]) for name in ("extension", "caller", "callee") if data.get(name)}


class Hub:
    QUEUE_MAX = 1000

    def __init__(self) -> None:
        self._by_tenant: dict[int, set[Subscriber]] = defaultdict(set)

    def subscribe(self, tenant_id: int, extension: str | None) -> Subscriber:
        subscriber = Subscriber(tenant_id, extension)
        self._by_tenant[tenant_id].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._by_tenant[subscriber.tenant_id].discard(subscriber)

    def publish(self, event: dict) -> None:
        event = Frame(event)
        for subscriber in tuple(self._by_tenant.get(event["tenant_id"], ())):
            if not subscriber.wants(event):
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                self.unsubscribe(subscriber)
                subscriber.queue.get_nowait()  # room for the end marker the reader waits on
                subscriber.queue.put_nowait(None)

    def close_all(self) -> None:
        """The control plane is stopping: every stream ends now (close code 1001) instead of
        holding the shutdown until its client goes; clients reconnect with ?after=<seq>."""
        for subscribers in self._by_tenant.values():
            for subscriber in subscribers:
                subscriber.going_away = True
                if subscriber.queue.full():
                    subscriber.queue.get_nowait()
                subscriber.queue.put_nowait(None)
        self._by_tenant.clear()

    def count(self) -> int:
        return sum(len(s) for s in self._by_tenant.values())
