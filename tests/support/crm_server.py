"""What the local CRM test servers share (tests/support/crm_<provider>.py): an aiohttp app on
a loopback port, started on the caller's loop (`await start()` / `await stop()`, for async
tests) or on a loop of its own in a thread (`start_in_thread()` / `stop_in_thread()`, or
`with Server() as server:`, for the synchronous live-call tests); every request kept; every
check that failed kept in `problems` (the server also answers it with the provider's error:
`refuse(...)`, or `expect(...)` for a plain 400), so a test can assert `server.problems == []`;
and knobs for failure tests: `stall_s`, `fail_status`, or `mode` ("ok", "hang", "fail").

The live-call tests (tests/test_crm_live.py) drive every provider's server alike through
`CallServer`: `Server(contact)` is the server seeded with that contact and already started,
with `provider`, `url`, `credentials`, `logged`, `problems`, `requests`, `mode` and `close()`."""
from __future__ import annotations

import asyncio
import contextlib
import threading

from aiohttp import web

HANG_S = 60.0  # mode "hang": a request waits this long, or until the server stops


class Refused(Exception):
    """A request the provider would not accept: answered 400, and the test fails on `problems`."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Refused(what)


class CrmServer:
    provider = ""

    def __init__(self, port: int = 0, *, stall_s: float = 0.0) -> None:
        """port 0: a free one the system picks (no clash with side-by-side suites, nor with a
        previous test's server)."""
        self.port = port
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self.stall_s = stall_s  # every request waits this long (or until the server stops) before its answer
        self.fail_status: int | None = None  # every request is answered with this status
        self._logged: list[dict] = []
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()  # set at stop: no stalled request holds the shutdown
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logged(self) -> list[dict]:
        """The call activities received (the live tests' view)."""
        return self._logged

    @property
    def mode(self) -> str:
        return "fail" if self.fail_status else "hang" if self.stall_s else "ok"

    @mode.setter
    def mode(self, mode: str) -> None:
        """"hang" (a minute per request), "fail" (500 in the provider's shape) or "ok"."""
        self.stall_s, self.fail_status = (HANG_S if mode == "hang" else 0.0), (500 if mode == "fail" else None)

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def failure_body(self, status: int):
        """The provider's error body for a failure asked for with `fail_status`."""
        return {"status": "error", "message": f"failing with {status} on purpose"}

    def refuse(self, problem: str, status: int, body=None, headers: dict | None = None) -> web.Response:
        """Keep the failed check and answer as the provider would."""
        self.problems.append(problem)
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    async def start(self) -> None:
        self._released = asyncio.Event()
        app = web.Application(middlewares=[self._keep_request])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]  # port 0: the one the system picked

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self) -> None:
        self._loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(10)

    def stop_in_thread(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self.thread.join(5)
        self._loop.close()

    def close(self) -> None:
        self.stop_in_thread()

    def __enter__(self):
        """`with SalesforceServer() as server:` runs it in a thread for the block (a `CallServer`
        runs already)."""
        if self.thread is None:
            self.start_in_thread()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_in_thread()

    @web.middleware
    async def _keep_request(self, request: web.Request, handler):
        body = await request.read()
        self.requests.append({"method": request.method, "path": request.path, "query": dict(request.query),
                              "headers": dict(request.headers), "body": body})
        if self.stall_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.stall_s)
        if self.fail_status:
            return web.json_response(self.failure_body(self.fail_status), status=self.fail_status)
        try:
            return await handler(request)
        except Refused as exc:
            return self.refuse(f"{request.method} {request.path_qs}: {exc}", 400,
                               {"status": "error", "message": str(exc)})


class CallServer:
    """What makes a CrmServer the live-call tests' `Server(contact)` (put it first in the
    bases): the contact seeded (`seed_call`), started in a thread, and `credentials` the dict
    the tenant saves."""

    def __init__(self, contact: dict, *, stall_s: float = 0.0, port: int = 0) -> None:
        super().__init__(port=port)
        self.stall_s = stall_s
        self.seed_call(contact)
        self.start_in_thread()
        self.credentials = self.credentials()  # no token yet: the provider's flow gets one

    def seed_call(self, contact: dict) -> None:
        raise NotImplementedError
