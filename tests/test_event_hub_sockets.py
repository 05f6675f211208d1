"""The event hub over real sockets (pbx/eventing/hub.py, pbx/api/events.py TransportSink),
without Asterisk: nothing in it is faked. A client that stops reading fills its TCP buffers,
then its backlog, and is cut off; a client reading beside it gets every frame in order,
and the calls' side (publish) never waits."""
from __future__ import annotations

import asyncio
import base64
import json
import os

import aiohttp
from aiohttp import web

from pbx.api.events import TransportSink
from pbx.eventing.hub import Hub

EVENTS = 3000
PADDING = "x" * 2000  # 2 KB per event: 6 MB in all, more than loopback's TCP buffers hold


async def _server(hub: Hub, ended: list):
    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        subscriber = hub.subscribe(1, None, TransportSink(request.transport))
        try:
            await subscriber.pump()
        finally:
            hub.unsubscribe(subscriber)
            ended.append(subscriber)
        await asyncio.wait_for(ws.close(code=4008 if subscriber.overflowed else 1000), 2)
        return ws

    app = web.Application()
    app.router.add_get("/", stream)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


async def _stalled_client(port: int):
    """Opens the WebSocket by hand and then never reads."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return writer


async def _read_all(ws, into: list) -> None:
    async for message in ws:
        into.append(json.loads(message.data)["seq"])
        if len(into) == EVENTS:
            return


def test_a_client_that_stops_reading_is_cut_off_and_one_reading_beside_it_gets_everything(monkeypatch):
    monkeypatch.setattr(Hub, "QUEUE_MAX", 200)  # cut off once the kernel's buffers are full, not 1,000 later

    async def scenario():
        hub, ended = Hub(), []
        runner, port = await _server(hub, ended)
        stalled = await _stalled_client(port)
        async with aiohttp.ClientSession() as http, http.ws_connect(f"http://127.0.0.1:{port}/") as ws:
            while hub.count() < 2:
                await asyncio.sleep(0.01)
            got: list[int] = []
            reading = asyncio.create_task(_read_all(ws, got))
            for first in range(1, EVENTS + 1, 50):  # batches, as call records are committed
                for seq in range(first, first + 50):
                    hub.publish({"id": str(seq), "seq": seq, "tenant_id": 1, "type": "call.ended",
                                 "data": {"padding": PADDING}})
                await asyncio.sleep(0.001)
            await asyncio.wait_for(reading, 30)
            assert [s.overflowed for s in ended] == [True]  # the stalled one, cut off while the other read on
            hub.close_all()  # the reading one's stream ends (this test's server does not read its close)
        assert got == list(range(1, EVENTS + 1))
        stalled.close()
        await runner.cleanup()

    asyncio.run(scenario())
