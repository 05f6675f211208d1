"""Test helpers for events: a WebSocket client of the event stream and a local webhook
receiver, each on its own asyncio loop in a thread (the tests themselves are sync)."""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import aiohttp
from aiohttp import web

from pbx.eventing.signature import verify

RECEIVER_PORT = 40050 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class EventStream(_LoopThread):
    """Connects to /tenants/{tid}/events/stream and keeps every frame received; `status` is
    101 once connected (else the refusal's HTTP status), `close_code` the server's at its end.
    Another way of signing in (the panel's cookie) subclasses it and calls `_connect`."""

    def __init__(self, base: str, tenant_id: int, token: str | None, query: str = "", use_query_token: bool = False,
                 headers: dict | None = None):
        """token: sent as a Bearer header, or ?token= with use_query_token; None sends only
        `headers` (the panel's session cookie, tests/support/panel.py)."""
        super().__init__()
        params = [query] if query else []
        headers = dict(headers or {})
        if token is not None and use_query_token:
            params.append(f"token={token}")
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._connect(base, tenant_id, "&".join(params), headers)

    def _connect(self, base: str, tenant_id: int, query: str, headers: dict[str, str]) -> None:
        self.url = base.replace("http://", "ws://") + f"/tenants/{tenant_id}/events/stream"
        if query:
            self.url += "?" + query
        self.events: list[dict] = []
        self.status: int | None = None
        self.close_code: int | None = None
        self.compress: int | None = None
        self._connected = threading.Event()
        self._task = asyncio.run_coroutine_threadsafe(self._read(headers), self.loop)
        self._connected.wait(15)

    async def _read(self, headers) -> None:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(self.url, headers=headers, heartbeat=10) as ws:
                    self.status = 101
                    self.compress = ws.compress  # aiohttp offers permessage-deflate: what the server agreed to
                    self._connected.set()
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self.events.append(json.loads(message.data))
                    self.close_code = ws.close_code
            except aiohttp.WSServerHandshakeError as exc:
                self.status = exc.status
                self._connected.set()

    def wait_for(self, predicate, timeout: float = 30.0) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            time.sleep(0.05)
        return None

    def wait_closed(self, timeout: float = 30.0) -> int | None:
        """The server's close code once it has closed the stream, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._task.done():
            time.sleep(0.1)
        return self.close_code

    def close(self) -> None:
        self._task.cancel()
        time.sleep(0.1)
        super().close()


class Receiver(_LoopThread):
    """A webhook receiver on 127.0.0.1: answers 503 while `failing(request_number)` says
    so, else 200; keeps what it got and whether each signature verified."""

    def __init__(self, secret: str, failing=lambda n: False, port: int = RECEIVER_PORT):
        super().__init__()
        self.secret, self.failing, self.port = secret, failing, port
        self.requests: list[dict] = []
        self.run(self._start())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        number = len(self.requests) + 1
        status = 503 if self.failing(number) else 200
        self.requests.append({"body": json.loads(body), "status": status, "headers": dict(request.headers),
                              "signed": verify(self.secret, body, request.headers.get("X-PBX-Signature", ""),
                                               int(time.time()))})
        return web.Response(status=status)

    def delivered(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200]

    def close(self) -> None:
        self.run(self.runner.cleanup())
        super().close()
