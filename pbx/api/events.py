"""GET /tenants/{tid}/events/stream: the tenant's events as JSON text frames over a
WebSocket. ?after=<seq> first replays from the outbox, then goes live; the live feed
is subscribed before the replay starts and de-duplicated by seq, so nothing falls in
the gap between them and nothing comes twice. ?extension= keeps an agent's own.
Live frames are written by the hub straight to the connection's transport
(pbx/eventing/hub.py), so the stream is not compressed: permessage-deflate would make each
subscriber's frame its own (a zlib context per connection), and a client that offers it
is answered without it, as RFC 7692 allows."""
from __future__ import annotations

import asyncio
import contextlib
import json
import re

from aiohttp import WSMsgType, web

from pbx.api.agents import own_extension
from pbx.api.context import DATABASE, EVENT_HUB, path_id, principal
from pbx.api.routes import Route
from pbx.api.session_auth import session_ended
from pbx.domain.errors import Invalid
from pbx.eventing.hub import Subscriber
from pbx.eventing.outbox import events_after
from pbx.services.tenants import visible_tenant

HEARTBEAT_S = 20.0  # aiohttp pings; a client that does not pong is closed
SEND_TIMEOUT_S = 10.0  # a replayed frame the client does not take in this long ends the stream
GOING_AWAY = 1001  # close code: the control plane is stopping; reconnect with ?after=
TOO_SLOW = 4008  # close code: the subscriber fell a whole queue behind; reconnect with ?after=
SESSION_ENDED = 4001  # close code: the session it was opened with has ended; sign in again
_EXTENSION = re.compile(r"^[0-9]{2,6}$")


def _query(request: web.Request) -> tuple[str | None, int | None]:
    extension, after = request.query.get("extension"), request.query.get("after")
    if extension is not None and not _EXTENSION.match(extension):
        raise Invalid("extension: 2 to 6 digits")
    if after is not None and not (after.isascii() and after.isdigit() and len(after) <= 18):
        raise Invalid("after: a seq, a non-negative integer")
    return extension, int(after) if after is not None else None


async def event_stream(request: web.Request) -> web.StreamResponse:
    tenant_id, me = path_id(request, "tenant_id"), principal(request)
    extension, after = _query(request)
    extension = own_extension(me) or extension  # an agent: its own extension's events, whatever it asks for
    async with request.app[DATABASE].read() as session:
        await visible_tenant(session, me, tenant_id)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096, compress=False)
    await ws.prepare(request)
    subscriber = request.app[EVENT_HUB].subscribe(tenant_id, extension, TransportSink(request.transport))
    try:
        await _serve(request, ws, subscriber, after)
    finally:
        request.app[EVENT_HUB].unsubscribe(subscriber)
    return ws


async def _serve(request: web.Request, ws: web.WebSocketResponse, subscriber: Subscriber, after: int | None):
    tasks = [asyncio.create_task(_send(request, ws, subscriber, after)), asyncio.create_task(_read(ws))]
    session_id = principal(request).session_id
    if session_id is not None:  # opened with the panel's cookie: it closes when the session ends
        tasks.append(asyncio.create_task(session_ended(request, session_id)))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    code, why = ((TOO_SLOW, b"too slow") if subscriber.overflowed
                 else (GOING_AWAY, b"control plane stopping") if subscriber.going_away else (1000, b""))
    if len(tasks) > 2 and tasks[2] in done:
        code, why = SESSION_ENDED, b"session ended"
    with contextlib.suppress(TimeoutError, ConnectionError):
        await asyncio.wait_for(ws.close(code=code, message=why), 2)


async def _read(ws: web.WebSocketResponse) -> None:
    """Reading is what lets aiohttp answer pings and see pongs and the client's close."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return


async def _send(request: web.Request, ws: web.WebSocketResponse, subscriber: Subscriber, after: int | None):
    if after is not None:
        subscriber.last_seq = after
        await _replay(request, ws, subscriber)
    await subscriber.pump()  # live: the hub writes; this writes only what had to wait


async def _replay(request: web.Request, ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
    """Pages from the outbox until none is left; live events wait in the backlog meanwhile."""
    while not subscriber.ended:
        async with request.app[DATABASE].read() as session:
            page = await events_after(session, subscriber.tenant_id, subscriber.last_seq)
        for event in page:
            if subscriber.wants(event):
                await asyncio.wait_for(ws.send_str(json.dumps(event, ensure_ascii=False)), SEND_TIMEOUT_S)
            subscriber.last_seq = event["seq"]
        if not page:
            return


class TransportSink:
    """The hub's view of a stream's connection (pbx/eventing/hub.py Sink). aiohttp's own
    writer (pings, pongs, the close) writes each frame in one synchronous transport write
    too, so frames never interleave; uncompressed, so the bytes need no per-connection state."""

    def __init__(self, transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def buffered(self) -> int:
        return 0 if self._transport is None else self._transport.get_write_buffer_size()

    def closing(self) -> bool:
        return self._transport is None or self._transport.is_closing()


ROUTES = [
    Route("GET", "/tenants/{tenant_id}/events/stream", event_stream,
          "The tenant's events, live, over a WebSocket (JSON text frames; token also as ?token=). "
          "?after=<seq> replays from the outbox first; ?extension= only that extension's events; "
          "a client that falls 1,000 events behind is closed with code 4008; one opened with the panel's session "
          "cookie is closed with 4001 once its session ends",
          status=101, query=("after", "extension", "token"),
          errors=(("400", "invalid: not a WebSocket handshake"),)),
]
