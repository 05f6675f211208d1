"""What the local CRM test servers share (tests/support/crm_<provider>.py): an aiohttp
server on 127.0.0.1 in its own thread that checks every request it gets (a request the
provider's documentation would refuse is answered 400 and kept in `problems`), keeps what
was logged to it, and can be told to hang or to fail."""
from __future__ import annotations

import asyncio

from aiohttp import web

from tests.support.events import _LoopThread


class Refused(Exception):
    """A request the provider would not accept: answered 400, and the test fails on `problems`."""


class CrmServer(_LoopThread):
    provider = ""

    def __init__(self, contact: dict, *, delay_s: float = 0.0, port: int = 0):
        """contact: name, company, phone, order ({id, date, total, status}) or None. port 0: a free
        one the system picks (no clash with side-by-side suites, nor with a previous test's server)."""
        super().__init__()
        self.contact, self.delay_s = contact, delay_s
        self.port = port
        self.mode = "ok"  # ok | hang | fail (500)
        self.requests: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.logged: list[dict] = []
        self.run(self._start())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def _start(self) -> None:
        self._released = asyncio.Event()  # a hanging request is let go when the server closes
        app = web.Application(middlewares=[self._checked])
        self.routes(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.port = self.runner.addresses[0][1]

    @web.middleware
    async def _checked(self, request: web.Request, handler):
        self.requests.append((request.method, request.path_qs))
        if self.mode == "hang":
            try:
                async with asyncio.timeout(60):
                    await self._released.wait()
            except TimeoutError:
                pass
        if self.mode == "fail":
            return web.json_response({"status": "error", "message": "internal error"}, status=500)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        try:
            return await handler(request)
        except Refused as exc:
            self.problems.append(f"{request.method} {request.path_qs}: {exc}")
            return web.json_response({"status": "error", "message": str(exc)}, status=400)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self._released.set)
        self.run(self.runner.cleanup())
        super().close()


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Refused(what)
