"""What the connector tests against a local CRM share (tests/test_crm_<provider>.py): a
client session, and a finished call to log."""
from __future__ import annotations

from datetime import datetime, timezone

import aiohttp
import pytest

from pbx.crm.base import CallLog


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def call(call_id: str, caller="+905321234567", callee="+908501234567", direction="inbound", **extra) -> CallLog:
    """An answered 75 s call at 01:30 on 2 December in Istanbul (22:30 UTC), to extension 101."""
    fields = dict(call_id=call_id, direction=direction, caller=caller, callee=callee,
                  started_at=datetime(2026, 12, 1, 22, 30, tzinfo=timezone.utc), duration_s=75,
                  disposition="ANSWERED", extension="101") | extra
    return CallLog(**fields)
