"""The real product for tests: one Asterisk (from the cached Debian root) and the
control plane as a subprocess (`pbx up --no-asterisk`), shared by the whole session."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import text

from pbx.asterisk.runner import AsteriskProcess
from pbx.config import Settings, settings_env, settings_from_env  # noqa: F401  (settings_env: the tests import it here)
from pbx.db.engine import make_engine
from pbx.db.migrate import upgrade
from tests.support.tls import self_signed

# PBX_TEST_PORT_OFFSET lets two suites run side by side on one machine.
# Offsets are multiples of 100; each suite's RTP window moves by ten times that, so the
# 1,000-port windows of side-by-side suites never overlap each other or the other ports.
_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
TEST_PORTS = {name: port + _OFFSET for name, port in dict(
    api_port=28080, sip_port=25060, ami_port=25038, agi_port=24573, sip_tls_port=25061).items()}
TEST_PORTS.update(rtp_start=30000 + 10 * _OFFSET, rtp_end=30999 + 10 * _OFFSET)
SMS_PORT, SMTP_PORT = 40060 + _OFFSET, 40061 + _OFFSET  # tests/support/notices.py, tests/support/smtp.py


def stack_settings(tmp: Path, database_url: str = "", ports: dict | None = None, **overrides) -> Settings:
    """With a SIP TLS transport (a self-signed certificate made here) when the ports name one;
    `overrides`: settings of the test's own."""
    ports = ports or TEST_PORTS
    tls = {}
    if "sip_tls_port" in ports:
        cert, key = self_signed(tmp / "tls")
        tls = {"sip_tls_cert": str(cert), "sip_tls_key": str(key)}
    return settings_from_env(env={}, **{**dict(
        data_dir=tmp / "var", audio_dir=tmp / "ivr_audio", database_url=database_url,
        ami_secret="test-secret", **ports, **tls,
        # Webhook tests deliver to a receiver on loopback, retried within seconds.
        outbound_allow_networks="127.0.0.0/8", webhook_retry="0.3,1,3600",
        # Voicemail e-mail and outage notices go to local servers (tests/support/smtp.py, notices.py),
        # retried within seconds; trunks qualified every 2 s, deadlines checked every second.
        trunk_qualify_s=2, fault_check_s=1.0, notice_retry_s=1.0, sms_url=f"http://127.0.0.1:{SMS_PORT}",
        sms_user="8501234567", sms_password="sms-secret", sms_header="SANTRAL",
        smtp_host="127.0.0.1", smtp_port=SMTP_PORT, mail_retry="0.5,1",
        # A carrier refusing a handful of calls opens a failure-rate fault; it ends within seconds.
        trunk_failure_window_s=20.0, trunk_failure_min_calls=4, trunk_failure_recovery_s=3.0,
        # The registrations' safety net every 2 s: its test sees it within seconds, and every other
        # test's exact lists of extension events would show a sweep raising anything twice.
        registration_resync_s=2.0,
    ), **overrides})


class Api:
    def __init__(self, base: str, token: str | None):
        self.base = base
        self.token = token
        self.http = requests.Session()

    def as_token(self, token: str | None) -> "Api":
        return Api(self.base, token)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
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


@dataclass
class ControlPlaneProcess:
    settings: Settings
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 90, *, healthy: bool = True) -> None:
        """Until /health answers 200: API up, AMI logged in, Asterisk fully booted and answering
        SIP (a loaded 2-core machine has taken 50 s). healthy=False: until the API answers at all
        (its 503 included), for tests of a control plane whose Asterisk is not there yet."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pbx", "up", "--no-asterisk"], env=settings_env(self.settings),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        base = f"http://{self.settings.api_host}:{self.settings.api_port}/api/v1"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                answer = requests.get(base + "/health", timeout=5)
                if answer.ok or (not healthy and answer.status_code == 503):
                    return
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or busy starting
                pass
            time.sleep(0.1)
        self.stop()  # else it outlives the session that gave up on it
        raise TimeoutError("the control plane did not come up")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


@dataclass
class Stack:
    settings: Settings
    asterisk: AsteriskProcess
    control: ControlPlaneProcess
    operator: Api
    _counter: list[int] = field(default_factory=lambda: [0])

    @property
    def sip_port(self) -> int:
        return self.settings.sip_port

    def new_tenant(self, plan: str = "kobi", **fields) -> tuple[dict, Api]:
        """A fresh tenant and an API client holding its own tenant token."""
        self._counter[0] += 1
        tenant = self.operator.ok("POST", "/tenants", {"name": f"Tenant {self._counter[0]}", "plan": plan, **fields})
        token = self.operator.ok("POST", f"/tenants/{tenant['id']}/tokens")["token"]
        return tenant, self.operator.as_token(token)

    def sql(self, statement: str, **params) -> list[tuple]:
        """Straight to the product's database (SQLite or PostgreSQL), as an operator
        with a shell would: for checks the API deliberately does not offer."""
        async def run() -> list[tuple]:
            engine = make_engine(self.settings.effective_database_url)
            try:
                async with engine.begin() as connection:
                    result = await connection.execute(text(statement), params)
                    return [tuple(row) for row in result] if result.returns_rows else []
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def wait_ami(self, timeout: float = 20) -> None:
        """Until the exchange can take calls again: AMI logged in, Asterisk fully booted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.operator.get("/health").status_code == 200:
                return
            time.sleep(0.2)
        raise TimeoutError("AMI did not reconnect")


def operator_token(settings: Settings) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "pbx", "token", "create", "--operator"], env=settings_env(settings),
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


def start_stack(tmp: Path, database_url: str = "", ports: dict | None = None) -> Stack:
    settings = stack_settings(tmp, database_url, ports).with_secret()
    upgrade(settings.effective_database_url)
    asterisk = AsteriskProcess(settings)
    asterisk.start()
    control = ControlPlaneProcess(settings, tmp / "control-plane.log")
    try:  # nothing left behind on the suite's ports if the start fails half-way
        control.start()
        api = Api(f"http://{settings.api_host}:{settings.api_port}/api/v1", operator_token(settings))
        stack = Stack(settings, asterisk, control, api)
        stack.wait_ami()
    except BaseException:
        control.stop()
        asterisk.stop()
        raise
    return stack
