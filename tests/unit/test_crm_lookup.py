"""CrmLookups over a temporary SQLite file with a fake provider module: one request per
number however many ask, a timeout that gives no contact yet lets the answer fill the
cache, the breaker that stops asking a failing CRM, refreshed credentials stored sealed."""
from __future__ import annotations

import asyncio
import json
import os
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from pbx.crm.base import Contact
from pbx.crm.errors import CrmError
from pbx.crm.lookup import CrmLookups, LookupSettings, credentials_context
from pbx.db.crm_tables import CrmConnection
from pbx.db.engine import make_engine, make_sessionmaker
from pbx.db.migrate import upgrade
from pbx.db.models import Tenant
from pbx.db.unit import Database
from pbx.jobs.sealing import Sealer


class FakeCrm:
    """The provider's behaviour, shared by every connector connect() makes."""

    def __init__(self):
        self.asked, self.delay_s, self.failing, self.refresh = [], 0.0, False, False

    def connect(self, _base_url, credentials):
        crm = self

        class Connector:
            provider, credentials_changed = "hubspot", False

            def __init__(self):
                self.credentials = credentials

            async def lookup(self, _http, number):
                crm.asked.append(number)
                await asyncio.sleep(crm.delay_s)
                if crm.failing:
                    raise CrmError("HTTP 500")
                if crm.refresh:
                    self.credentials["access_token"], self.credentials_changed = "fresh", True
                return Contact("Ayşe", "Çağrı Ltd", None, None)

        return Connector()


def run(tmp_path, scenario, **settings):
    url = f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"
    upgrade(url)

    async def main():
        engine = make_engine(url)
        database = Database(make_sessionmaker(engine), serialize_writes=True)
        sealer, crm = Sealer(os.urandom(32)), FakeCrm()
        async with database.unit() as unit:
            unit.session.add(Tenant(id=7, name="T", plan="kobi"))
            await unit.session.flush()
            unit.session.add(CrmConnection(tenant_id=7, provider="hubspot", base_url="http://crm/",
                                           credentials=sealer.seal(json.dumps({"access_token": "old"}),
                                                                   credentials_context(7))))
        module = SimpleNamespace(PROVIDER="hubspot", connect=crm.connect)
        lookups = CrmLookups(database, sealer, {"hubspot": module}, (), LookupSettings(**settings))
        database.subscribe(CrmLookups.TABLES, lookups.changed)
        lookups.start()
        try:
            return await scenario(lookups, crm, database, sealer)
        finally:
            await lookups.stop()
            await engine.dispose()

    return asyncio.run(main())


def test_many_asking_for_one_number_make_one_request_then_the_cache_answers(tmp_path):
    async def scenario(lookups, crm, *_):
        crm.delay_s = 0.05
        answers = await asyncio.gather(*(lookups.contact_for(7, "0532 123 45 67") for _ in range(5)))
        assert answers == [{"name": "Ayşe", "company": "Çağrı Ltd", "last_order": None, "url": None}] * 5
        assert await lookups.contact_for(7, "+905321234567") == answers[0]
        assert crm.asked == ["+905321234567"]
        assert await lookups.contact_for(7, "anonymous") is None and await lookups.contact_for(8, "05321234567") is None

    run(tmp_path, scenario)


def test_a_slow_crm_gives_no_contact_in_time_but_its_answer_is_kept(tmp_path):
    async def scenario(lookups, crm, *_):
        crm.delay_s = 0.15  # over the event's 0.05 s, within the request's own 4 x 0.05 s
        assert await lookups.contact_for(7, "05321234567") is None  # the event gave up after 0.05 s
        await asyncio.sleep(0.3)
        assert (await lookups.contact_for(7, "05321234567"))["name"] == "Ayşe"
        assert len(crm.asked) == 1

    run(tmp_path, scenario, timeout_s=0.05)


def test_the_breaker_stops_asking_a_failing_crm(tmp_path):
    async def scenario(lookups, crm, *_):
        crm.failing = True
        for n in range(3):
            assert await lookups.contact_for(7, f"053212345{n:02d}") is None
        assert len(crm.asked) == 3
        with pytest.raises(CrmError, match="not asked"):
            await lookups.lookup(7, "+905321234599")
        assert len(crm.asked) == 3

    run(tmp_path, scenario)


def test_refreshed_credentials_are_used_and_stored_sealed(tmp_path):
    async def scenario(lookups, crm, database, sealer):
        crm.refresh = True
        assert await lookups.contact_for(7, "05321234567")
        for _ in range(100):
            async with database.read() as session:
                row = await session.scalar(select(CrmConnection))
            if row.last_success_at is not None:
                break
            await asyncio.sleep(0.02)
        assert json.loads(sealer.open(row.credentials, credentials_context(7))) == {"access_token": "fresh"}
        assert "fresh" not in row.credentials

    run(tmp_path, scenario)
