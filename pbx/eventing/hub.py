"""Live fan-out to WebSocket subscribers. Publishing never waits: the event's WebSocket
frame is built once (a server's frames are not masked, so every subscriber gets the same
bytes) and written straight to each subscriber's connection while its write buffer is
below BUFFER_HIGH, at the end of the loop's turn, so the events of one committed batch
(call records are written by the dozen) go out in one socket write per subscriber. A
subscriber whose buffer is above it gets a backlog of the same shared frames, written by
its own task at the pace its client reads; one whose backlog passes QUEUE_MAX, or whose
unsent bytes stay above BUFFER_HIGH for STALL_S, is cut off (it reconnects with
?after=<seq> and replays from the outbox), so a slow reader slows no call and no other
subscriber (bench/fanout.py: a queue and a task wake-up per subscriber per event were
200 subscribers' cost)."""
from __future__ import annotations

import asyncio
import json
import struct
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Protocol


def text_frame(text: str) -> bytes:
    """RFC 6455 5.2: one final, unmasked text frame (a server's frame)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class Frame(dict):
    """An event as sent to subscribers: the same dict, with its JSON text and its WebSocket
    frame made once for all of them."""

    @cached_property
    def text(self) -> str:
        return json.dumps(self, ensure_ascii=False)

    @cached_property
    def wire(self) -> bytes:
        return text_frame(self.text)

    @cached_property
    def extensions(self) -> set[str]:
        return _extensions_of(self["data"])


class Sink(Protocol):
    """A subscriber's connection, as the hub writes to it (pbx/api/events.py: its transport)."""

    def write(self, data: bytes) -> None: ...

    def buffered(self) -> int: ...  # bytes written but not yet taken by the kernel

    def closing(self) -> bool: ...


@dataclass(eq=False)
class Subscriber:
    tenant_id: int
    extension: str | None
    sink: Sink | None = None
    flush_soon: Callable[[Subscriber], None] = lambda subscriber: subscriber.flush()
    live: bool = False  # False while a replay runs: live events wait in the backlog
    last_seq: int | None = None  # the last seq written (a replayed one is not written again)
    backlog: deque = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False
    going_away: bool = False  # the control plane is stopping
    ended: bool = False
    unflushed: list[bytes] = field(default_factory=list)  # written this turn of the loop
    unflushed_bytes: int = 0  # kept as they come: summing the list per event made a burst quadratic

    def wants(self, event: dict) -> bool:
        if self.extension is None:
            return True
        return self.extension in (event.extensions if isinstance(event, Frame) else _extensions_of(event["data"]))

    def offer(self, frame: Frame) -> bool:
        """Writes the frame now if the connection has room, else keeps it in order in the
        backlog; False once the subscriber is too far behind (cut off)."""
        if self.ended or (self.sink is not None and self.sink.closing()):
            return True  # the stream is ending: its reader sees to it
        if self.live and not self.backlog and self._buffered() < Hub.BUFFER_HIGH:
            self.write(frame)
            return True
        self.backlog.append(frame)
        if len(self.backlog) > Hub.QUEUE_MAX:
            self.end(overflowed=True)
            return False
        if self.live:
            self.wake.set()
        return True

    def write(self, event: dict) -> None:
        if self.last_seq is not None and event["seq"] <= self.last_seq:
            return  # sent by the replay already
        if not self.unflushed:
            self.flush_soon(self)
        wire = event.wire if isinstance(event, Frame) else Frame(event).wire
        self.unflushed.append(wire)
        self.unflushed_bytes += len(wire)
        self.last_seq = event["seq"]

    def flush(self) -> None:
        if self.unflushed and not self.ended and not self.sink.closing():
            self.sink.write(b"".join(self.unflushed) if len(self.unflushed) > 1 else self.unflushed[0])
        self.unflushed.clear()
        self.unflushed_bytes = 0

    def _buffered(self) -> int:
        return self.sink.buffered() + self.unflushed_bytes

    def end(self, *, overflowed: bool = False, going_away: bool = False) -> None:
        self.overflowed |= overflowed
        self.going_away |= going_away
        self.ended = True
        self.backlog.clear()
        self.unflushed.clear()
        self.unflushed_bytes = 0
        self.wake.set()

    async def pump(self) -> None:
        """Goes live, then writes the backlog whenever there is one, at the pace the client
        reads; returns once the subscriber is cut off or the control plane stops."""
        self.live = True
        self.wake.set()  # what came during the replay
        while not self.ended:
            await self.wake.wait()
            self.wake.clear()
            while self.backlog and not self.ended:
                if not await self._room():
                    self.end(overflowed=True)
                    return
                self.write(self.backlog.popleft())

    async def _room(self) -> bool:
        """Polled rather than awaiting the transport's drain: the hub writes past aiohttp's
        writer, so only the transport's own buffer size is true. The poll backs off (a
        starved client of 200 would otherwise wake 200 tasks every few ms)."""
        loop = asyncio.get_running_loop()
        stalled_at, pause = loop.time() + Hub.STALL_S, Hub.POLL_S
        while not self.ended and self._buffered() >= Hub.BUFFER_HIGH:
            if loop.time() >= stalled_at:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, Hub.POLL_MAX_S)
        return not self.ended


def _extensions_of(data: dict) -> set[str]:
    return {str(data[name]) for name in ("extension", "caller", "callee") if data.get(name)}


class Hub:
    QUEUE_MAX = 1000  # events a subscriber may fall behind (besides its buffer) before it is cut off
    BUFFER_HIGH = 64 * 1024  # bytes in a connection's write buffer above which frames wait in its backlog
    STALL_S = 10.0  # a connection whose unsent bytes stay above BUFFER_HIGH this long is cut off
    POLL_S = 0.02  # a connection with a backlog is looked at again after this, then less and less often
    POLL_MAX_S = 0.5

    def __init__(self) -> None:
        self._by_tenant: dict[int, set[Subscriber]] = defaultdict(set)
        self._to_flush: list[Subscriber] = []

    def subscribe(self, tenant_id: int, extension: str | None, sink: Sink | None = None) -> Subscriber:
        """sink may be attached later (subscriber.sink), before subscriber.pump() goes live."""
        subscriber = Subscriber(tenant_id, extension, sink, self._flush_soon)
        self._by_tenant[tenant_id].add(subscriber)
        return subscriber

    def _flush_soon(self, subscriber: Subscriber) -> None:
        if not self._to_flush:
            asyncio.get_running_loop().call_soon(self.flush)
        self._to_flush.append(subscriber)

    def flush(self) -> None:
        """What this turn of the loop wrote, one socket write per subscriber."""
        subscribers, self._to_flush = self._to_flush, []
        for subscriber in subscribers:
            subscriber.flush()

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._by_tenant[subscriber.tenant_id].discard(subscriber)

    def publish(self, event: dict) -> None:
        event = Frame(event)
        for subscriber in tuple(self._by_tenant.get(event["tenant_id"], ())):
            if subscriber.wants(event) and not subscriber.offer(event):
                self.unsubscribe(subscriber)

    def close_all(self) -> None:
        """The control plane is stopping: every stream ends now (close code 1001) instead of
        holding the shutdown until its client goes; clients reconnect with ?after=<seq>."""
        for subscribers in self._by_tenant.values():
            for subscriber in subscribers:
                subscriber.end(going_away=True)
        self._by_tenant.clear()

    def count(self) -> int:
        return sum(len(s) for s in self._by_tenant.values())
