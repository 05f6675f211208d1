"""Local stand-ins for the outside services outage notices go to, each on its own loop in a
thread: an SMS server speaking Netgsm's REST v2 send API (it checks the request as Netgsm
would: Basic auth, JSON shape, Turkish encoding, the n:n list of messages) and the SMTP
server of tests/support/smtp.py."""
from __future__ import annotations

import base64
import threading
import time

from aiohttp import web

from tests.support.events import _LoopThread
from tests.support.smtp import SmtpServer  # noqa: F401 (one SMTP stand-in for every test)
from tests.support.stack import SMS_PORT

USER, PASSWORD, HEADER = "8501234567", "sms-secret", "SANTRAL"
MAX_PER_REQUEST = 1000  # what this stand-in takes in one request; the control plane sends 100


class SmsServer(_LoopThread):
    def __init__(self, port: int = SMS_PORT):
        super().__init__()
        self.port = port
        self.messages: list[dict] = []  # {"no", "msg"} accepted
        self.refused: list[str] = []
        self.requests: list[int] = []  # how many messages each accepted request carried
        self.fail_next = 0  # answer this many requests with an error (a provider outage)
        self._lock = threading.Lock()
        self.run(self._start())

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/sms/rest/v2/send", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _send(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            self.refused.append("auth")
            return web.json_response({"code": "30", "description": "invalid credentials"})
        body = await request.json()
        if body.get("msgheader") != HEADER or body.get("encoding") != "TR" or not body.get("messages"):
            self.refused.append(f"body {body}")
            return web.json_response({"code": "40", "description": "bad request"})
        if not _well_formed(body["messages"]):
            self.refused.append(f"messages {body['messages']}")
            return web.json_response({"code": "40", "description": "bad messages"})
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return web.json_response({"code": "80", "description": "limit exceeded"})
            self.requests.append(len(body["messages"]))
            self.messages.extend(body["messages"])
        return web.json_response({"code": "00", "jobid": f"job{len(self.requests)}", "description": "queued"})

    def wait_for(self, predicate, timeout: float = 30) -> list[dict]:
        return _wait(lambda: [m for m in list(self.messages) if predicate(m)], timeout)

    def close(self) -> None:
        self.run(self._runner.cleanup())
        super().close()


def _well_formed(messages) -> bool:
    """Netgsm's n:n form: a list of {"msg", "no"}, each its own text and number (national
    digits), up to MAX_PER_REQUEST in one request."""
    return (isinstance(messages, list) and 0 < len(messages) <= MAX_PER_REQUEST
            and all(isinstance(m, dict) and set(m) == {"msg", "no"} and isinstance(m["msg"], str) and m["msg"]
                    and isinstance(m["no"], str) and m["no"].isdigit() for m in messages))


def _wait(found, timeout: float) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hits := found():
            return hits
        time.sleep(0.1)
    return found()
