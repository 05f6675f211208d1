"""What the local CRM servers (crm_salesforce.py, crm_dynamics.py) share: an aiohttp app on
a loopback port, started on the caller's loop (`await start()` / `await stop()`, for async
tests) or on a loop of its own in a thread (`start_in_thread()` / `stop_in_thread()`, or
`with Server() as server:`, for the synchronous live-call tests); every request kept; every check that failed kept in
`problems` (the server also answers it with the provider's error), so a test can assert
`server.problems == []`; and two knobs for failure tests: `stall_s` and `fail_status`.

The live-call tests (tests/test_crm_live.py) drive every provider's server alike, as
tests/support/crm_server.py's CrmServer: `provider`, `url`, `credentials`, `logged`,
`problems`, `requests`, `mode` and `close()`; each provider's `<Name>Call(contact)` here
is its server seeded with that contact and started on a port the system picks (CallServer)."""
from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class LocalCrmServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self.stall_s = 0.0  # every request waits this long before it is answered
        self.fail_status: int | None = None  # every request is answered with this status
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    provider = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logged(self) -> list[dict]:
        """The call activities received (the live tests' view)."""
        raise NotImplementedError

    @property
    def mode(self) -> str:
        return "fail" if self.fail_status else "hang" if self.stall_s else "ok"

    @mode.setter
    def mode(self, mode: str) -> None:
        """CrmServer's knob: "hang" (a minute per request), "fail" (500 in the provider's shape) or "ok"."""
        self.stall_s, self.fail_status = (60.0 if mode == "hang" else 0.0), (500 if mode == "fail" else None)

    def close(self) -> None:
        self.stop_in_thread()

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def failure_body(self, status: int):
        """The provider's error body for a failure asked for with `fail_status`."""
        return {"error": f"failing with {status} on purpose"}

    def refuse(self, problem: str, status: int, body=None, headers: dict | None = None) -> web.Response:
        """Keep the failed check and answer as the provider would."""
        self.problems.append(problem)
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    async def start(self) -> None:
        app = web.Application(middlewares=[self._keep_request])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]  # port 0: the one the system picked

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(10)

    def stop_in_thread(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self):
        """`with SalesforceServer() as server:` runs it in a thread for the block (a `<Name>Call`
        runs already)."""
        if self._thread is None:
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
            await asyncio.sleep(self.stall_s)
        if self.fail_status:
            return web.json_response(self.failure_body(self.fail_status), status=self.fail_status)
        return await handler(request)


class CallServer:
    """What makes a LocalCrmServer the live-call tests' `Server(contact)` (put it first in the
    bases): the contact seeded (`seed_call`), started in a thread on a port the system picks,
    and `credentials` the dict the tenant saves, as CrmServer's."""

    def __init__(self, contact: dict) -> None:
        super().__init__(port=0)
        self.seed_call(contact)
        self.start_in_thread()
        self.credentials = self.credentials()  # no token yet: the provider's flow gets one

    def seed_call(self, contact: dict) -> None:
        raise NotImplementedError
