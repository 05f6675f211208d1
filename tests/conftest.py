"""One real Asterisk and one control plane for the whole session; one pjsua2 Endpoint."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="session")
def database_url():
    """SQLite by default; PBX_TEST_DATABASE=postgres runs against a throwaway PostgreSQL."""
    if os.environ.get("PBX_TEST_DATABASE") != "postgres":
        yield ""
        return
    from tests.support.postgres import PostgresServer

    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack(database_url, tmp_path_factory) -> Stack:
    tmp = Path(tempfile.mkdtemp(prefix="pbx-test-"))
    stack = start_stack(tmp, database_url)
    try:
        yield stack
    finally:
        stack.control.stop()
        stack.asterisk.stop()


@pytest.fixture(scope="session")
def phones():
    from tests.support.phone import Phones

    with Phones() as phones:
        yield phones


@pytest.fixture
def operator(stack):
    return stack.operator


CARRIER_ADDRESS = "127.0.5.7"


@pytest.fixture(scope="session")
def carrier_line(stack, phones):
    """A carrier: a real phone on its own loopback address, defined as a trunk."""
    trunk = stack.operator.ok("POST", "/trunks", {"name": "Carrier", "host": CARRIER_ADDRESS,
                                                  "port": phones.sip_port(CARRIER_ADDRESS),
                                                  "match": [CARRIER_ADDRESS], "default_outbound": True})
    phone = phones.add_phone("carrier", "unused", register=False, bind_address=CARRIER_ADDRESS,
                             port=stack.sip_port)
    yield trunk, phone
    phone.remove()
    stack.operator.delete(f"/trunks/{trunk['id']}")


@pytest.fixture
def carrier(stack, carrier_line):
    """The carrier's phone, its trunk again the default for outbound calls (other
    tests may have made another trunk the default meanwhile)."""
    trunk, phone = carrier_line
    stack.operator.ok("PATCH", f"/trunks/{trunk['id']}", {"default_outbound": True})
    return phone


@pytest.fixture(scope="module")
def browser(stack):
    """A module's one headless Chromium on the panel (tests/support/browser.py)."""
    from tests.support.browser import Browser

    browser = Browser(stack.operator.base.removesuffix("/api/v1"))
    try:
        yield browser
    finally:
        browser.close()
