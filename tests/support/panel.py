"""A browser as the API sees it: cookies kept, the CSRF token sent on writes (unless told
not to), requests from a loopback address of its own (so sign-in throttling in one test
touches no other), and the event stream opened with the session cookie."""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from tests.support.events import EventStream
from tests.support.stack import Api

COOKIE = "pbx_session"


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser(Api):
    """The stack's API client without a token: the session cookie authenticates instead."""

    def __init__(self, base: str, address: str = "127.0.0.1"):
        super().__init__(base, None)  # .../api/v1
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
        return super().request(method, path, headers=headers, **kwargs)

    @property
    def cookie(self) -> str | None:
        return self.http.cookies.get(COOKIE)


class CookieStream(EventStream):
    """The event stream as the panel opens it: the session cookie and an Origin, no token."""

    def __init__(self, browser: Browser, tenant_id: int, query: str = "", origin: str | None = None):
        host = browser.base.split("/")[2]
        super().__init__(browser.base, tenant_id, token=None, query=query,
                         headers={"Cookie": f"{COOKIE}={browser.cookie}", "Origin": origin or f"http://{host}"})
