"""Real Asterisk started over thousands of realtime extensions: it logs nothing per row,
and /health says SIP is ready only once Asterisk has booted and answers SIP, and then a
phone registers at once. Runs its own Asterisk and control plane (the session's stack
starts empty), on ports next to the stack's."""
from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import insert

from pbx.asterisk import endpoints
from pbx.asterisk.runner import AsteriskProcess
from pbx.db.engine import make_engine
from pbx.db.migrate import upgrade
from pbx.db.realtime import PsAor, PsAuth, PsEndpoint
from tests.support.stack import TEST_PORTS, ControlPlaneProcess, stack_settings

EXTENSIONS = 3000
PASSWORD = "boot-test-password-1"
PORTS = {name: port + 50 for name, port in TEST_PORTS.items() if name.endswith("_port")}
PORTS.update(rtp_start=TEST_PORTS["rtp_end"] - 99, rtp_end=TEST_PORTS["rtp_end"])  # no media here


def fill(url: str, realm: str) -> list[str]:
    """Realtime rows exactly as the product writes them (endpoints.add_rows's values)."""
    sip_ids = [f"{1000 + i}-boot{i:04d}" for i in range(EXTENSIONS)]

    async def run():
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(insert(PsAuth), [
                {"id": s, "auth_type": "md5", "username": s, "realm": realm,
                 "md5_cred": endpoints.md5_credential(s, realm, PASSWORD)} for s in sip_ids])
            await conn.execute(insert(PsAor), [{"id": s, **endpoints.aor_values()} for s in sip_ids])
            await conn.execute(insert(PsEndpoint), [
                {"id": s, "aors": s, "auth": s, "callerid": endpoints.callerid("Boot", s[:4]),
                 **endpoints.endpoint_values()} for s in sip_ids])
        await engine.dispose()
    asyncio.run(run())
    return sip_ids


def health(base: str) -> dict:
    return requests.get(base + "/health", timeout=5).json()


@pytest.fixture
def booting():
    tmp = Path(tempfile.mkdtemp(prefix="pbx-boot-test-"))
    settings = stack_settings(tmp, "", PORTS).with_secret()
    upgrade(settings.effective_database_url)
    sip_ids = fill(settings.effective_database_url, settings.sip_realm)
    control = ControlPlaneProcess(settings, tmp / "control-plane.log")
    asterisk = AsteriskProcess(settings)
    try:
        yield settings, sip_ids, control, asterisk
    finally:
        control.stop()
        asterisk.stop()


def test_a_start_over_thousands_of_extensions_is_quiet_and_ready_means_registrable(booting, phones):
    settings, sip_ids, control, asterisk = booting
    base = f"http://{settings.api_host}:{settings.api_port}/api/v1"
    control.start(timeout=60, healthy=False)  # before Asterisk: the control plane is up, SIP is not
    before = requests.get(base + "/health", timeout=5)
    assert before.status_code == 503  # the exchange cannot take calls yet
    assert before.json() == {"ok": False, "asterisk": False, "fully_booted": False, "sip": False}

    asterisk.start(timeout=120)
    deadline = time.monotonic() + 180
    while not health(base)["sip"]:
        assert time.monotonic() < deadline, "SIP never became ready"
        time.sleep(0.2)
    log = (settings.asterisk_instance_dir / "log" / "messages.log").read_text(errors="replace")
    assert "Asterisk Ready." in log  # "sip": true came only after Asterisk had fully booted
    phone = phones.add_phone(sip_ids[EXTENSIONS // 2], PASSWORD, port=settings.sip_port)
    try:
        assert phone.wait_registered(timeout=20) == 200  # ready means a phone registers now
    finally:
        phone.remove()
    log = (settings.asterisk_instance_dir / "log" / "messages.log").read_text(errors="replace")
    assert "Error parsing" not in log and " ERROR[" not in log, [
        line for line in log.splitlines() if "ERROR" in line][:5]
