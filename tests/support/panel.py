"""A browser as the API sees it: cookies kept, the CSRF token sent on writes (unless told
not to), requests from a loopback address of its own (so sign-in throttling in one test
touches no other), and the event stream opened with the session cookie."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import aiohttp

import requests
from requests.adapters import HTTPAdapter

from tests.support.events import EventStream, _LoopThread

COOKIE = "pbx_session"


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    def __init__(self, base: str, address: str = "127.0.0.1"):
        self.base = base  # .../api/v1
        self.http = requests.Session()
        self.http.mount("http://", _FromAddress(address))
        self.csrf: str | None = None
        self.signed_in: dict | None = None

    def sign_in(self, email: str, password: str, **headers) -> requests.Response:
        response = self.http.post(self.base + "/session", json={"email": email, "password": password},
                                  headers=headers, timeout=15)
        if response.status_code == 200:
            self.signed_in = response.json()
            self.csrf = self.signed_in["csrf_token"]
        return response

    def request(self, method: str, path: str, *, csrf: bool = True, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self.http.request(method, self.base + path, headers=headers, timeout=15, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, json=None, status: int | None = None) -> dict:
        response = self.request(method, path, json=json)
        expected = status or (201 if method == "POST" else 200)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    @property
    def cookie(self) -> str | None:
        return self.http.cookies.get(COOKIE)


class CookieStream(EventStream):
    """The event stream as the panel opens it: the session cookie and an Origin, no token."""

    def __init__(self, browser: Browser, tenant_id: int, query: str = "", origin: str | None = None):
        _LoopThread.__init__(self)
        self.url = browser.base.replace("http://", "ws://") + f"/tenants/{tenant_id}/events/stream"
        if query:
            self.url += "?" + query
        host = browser.base.split("/")[2]
        headers = {"Cookie": f"{COOKIE}={browser.cookie}", "Origin": origin or f"http://{host}"}
        self.events, self.status = [], None
        self._connected = threading.Event()
        self._task = asyncio.run_coroutine_threadsafe(self._read(headers), self.loop)
        self._connected.wait(15)



    async def _read(self, headers) -> None:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(self.url, headers=headers, heartbeat=10) as ws:
                    self.status = 101
                    self._connected.set()
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self.events.append(json.loads(message.data))
                    self.close_code = ws.close_code
            except aiohttp.WSServerHandshakeError as exc:
                self.status = exc.status
                self._connected.set()

    def wait_closed(self, timeout: float = 30.0) -> int | None:
        """The server's close code once it has closed the stream, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._task.done():
            time.sleep(0.1)
        return getattr(self, "close_code", None)
