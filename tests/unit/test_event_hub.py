"""The live hub (pbx/eventing/hub.py): frames written straight to a connection with room,
a backlog for one without, a slow subscriber cut off alone, replay then live with no gap
and no duplicate, the per-extension filter, and the frames' bytes as an independent
WebSocket parser reads them."""
from __future__ import annotations

import asyncio
import json

import pytest
from wsproto.frame_protocol import FrameProtocol, Opcode

from pbx.eventing.hub import Frame, Hub, text_frame


class Connection:
    """A subscriber's connection as the hub sees it: what was written, and how much of it
    the kernel has not taken yet (set by the test)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes: list[bytes] = []
        self.pending = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data
        self.writes.append(data)

    def buffered(self) -> int:
        return self.pending

    def closing(self) -> bool:
        return self.closed

    def seqs(self) -> list[int]:
        return [json.loads(text)["seq"] for text in _texts(bytes(self.data))]


def _texts(data: bytes) -> list[str]:
    parser = FrameProtocol(client=True, extensions=[])
    parser.receive_bytes(data)
    frames = list(parser.received_frames())
    assert all(f.opcode is Opcode.TEXT and f.frame_finished and f.message_finished for f in frames)
    return [f.payload for f in frames]


def _event(seq: int, tenant_id: int = 1, **data) -> dict:
    return {"id": f"e{seq}", "seq": seq, "type": "call.ended", "tenant_id": tenant_id, "data": data}


def _publish(hub: Hub, *events: dict) -> None:
    """Outside a running loop: publish, then the loop's turn ends and the hub flushes."""
    async def turn():
        for event in events:
            hub.publish(event)
        await asyncio.sleep(0)

    asyncio.run(turn())


def _live(hub: Hub, tenant_id: int = 1, extension: str | None = None):
    connection = Connection()
    subscriber = hub.subscribe(tenant_id, extension, connection)
    subscriber.live = True
    return subscriber, connection


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_text_frame_is_read_back_by_another_websocket_parser(size):
    text = "ş" * (size // 2) + "x" * (size % 2)  # two bytes each in UTF-8
    assert _texts(text_frame(text)) == [text]


def test_a_live_subscriber_gets_the_frame_written_at_once_and_made_once():
    hub = Hub()
    (one, first), (_, second) = _live(hub), _live(hub)
    _publish(hub, _event(1, name="Ayşe\n<b>"), _event(2))
    assert len(first.writes) == 1  # one batch, one socket write
    assert first.data == second.data and json.loads(_texts(bytes(first.data))[0])["data"]["name"] == "Ayşe\n<b>"
    assert one.last_seq == 2 and not one.backlog


def test_a_slow_subscriber_waits_in_its_backlog_then_is_cut_off_alone():
    hub = Hub()
    (slow, slow_connection), (fast, fast_connection) = _live(hub), _live(hub)
    other_tenant, other_connection = _live(hub, tenant_id=2)
    slow_connection.pending = Hub.BUFFER_HIGH  # its client stopped reading
    for first in range(1, Hub.QUEUE_MAX + 2, 100):  # batches of 100, each flushed at its turn's end
        _publish(hub, *(_event(seq) for seq in range(first, min(first + 100, Hub.QUEUE_MAX + 2))))
    assert fast_connection.seqs() == list(range(1, Hub.QUEUE_MAX + 2)) and not fast.ended
    assert slow.overflowed and slow.ended and not slow.backlog and slow_connection.data == b""
    assert hub.count() == 2 and other_connection.data == b"" and not other_tenant.ended
    _publish(hub, _event(Hub.QUEUE_MAX + 2))  # a cut-off subscriber gets nothing more
    assert slow_connection.data == b""


def test_the_backlog_is_written_in_order_once_the_client_reads_again(monkeypatch):
    monkeypatch.setattr(Hub, "POLL_S", 0.01)
    monkeypatch.setattr(Hub, "POLL_MAX_S", 0.01)

    async def scenario():
        hub = Hub()
        subscriber, connection = _live(hub)
        pump = asyncio.create_task(subscriber.pump())
        hub.publish(_event(1))
        await asyncio.sleep(0)
        connection.pending = Hub.BUFFER_HIGH
        for seq in (2, 3, 4):
            hub.publish(_event(seq))
        await asyncio.sleep(0.05)
        assert connection.seqs() == [1] and len(subscriber.backlog) == 3
        connection.pending = 0
        await asyncio.sleep(0.05)
        hub.publish(_event(5))
        await asyncio.sleep(0.01)
        assert connection.seqs() == [1, 2, 3, 4, 5] and not pump.done()
        hub.close_all()
        await asyncio.wait_for(pump, 1)
        assert subscriber.going_away and not subscriber.overflowed

    asyncio.run(scenario())


def test_a_connection_that_takes_nothing_for_the_stall_time_is_cut_off(monkeypatch):
    monkeypatch.setattr(Hub, "POLL_S", 0.01)
    monkeypatch.setattr(Hub, "STALL_S", 0.05)

    async def scenario():
        hub = Hub()
        subscriber, connection = _live(hub)
        connection.pending = Hub.BUFFER_HIGH
        pump = asyncio.create_task(subscriber.pump())
        hub.publish(_event(1))
        await asyncio.wait_for(pump, 1)
        assert subscriber.overflowed and connection.data == b""

    asyncio.run(scenario())


def test_replay_then_live_has_no_gap_and_no_duplicate():
    async def scenario():
        hub = Hub()
        connection = Connection()
        subscriber = hub.subscribe(1, None, connection)  # not live: a replay runs
        for seq in (5, 6, 7):
            hub.publish(_event(seq))  # committed while the replay read the outbox
        assert connection.data == b"" and len(subscriber.backlog) == 3
        subscriber.last_seq = 6  # the replay sent up to 6
        pump = asyncio.create_task(subscriber.pump())
        await asyncio.sleep(0)
        hub.publish(_event(8))
        await asyncio.sleep(0)
        assert connection.seqs() == [7, 8]
        hub.close_all()
        await asyncio.wait_for(pump, 1)

    asyncio.run(scenario())


def test_extension_filter_and_a_closing_connection():
    hub = Hub()
    agent, agent_connection = _live(hub, extension="101")
    gone, gone_connection = _live(hub)
    gone_connection.closed = True
    _publish(hub, _event(1, extension="102", caller="103"), _event(2, extension="101"), _event(3, callee="101"))
    assert agent_connection.seqs() == [2, 3]
    assert gone_connection.data == b"" and not gone.overflowed  # its reader ends the stream


def test_close_all_ends_every_stream():
    hub = Hub()
    idle, _ = _live(hub)
    replaying = hub.subscribe(2, "101")
    _publish(hub, _event(1, tenant_id=2, extension="101"))
    hub.close_all()
    assert hub.count() == 0 and idle.going_away and replaying.going_away and replaying.ended
    assert not replaying.backlog and isinstance(Frame(_event(1)).wire, bytes)
