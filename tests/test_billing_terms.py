"""The terms job against a real database and a real SMTP server (aiosmtpd on loopback):
trial reminders 7 and 1 days before the end, each sent once; a refused send is tried
again; an unconverted trial is suspended (nothing deleted); a downgrade waits for renewal."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from pbx.billing import catalogue
from pbx.billing.terms import term_end
from pbx.billing.terms_job import TermsJob
from pbx.db.billing_tables import BillingAccount
from pbx.db.models import Extension, Tenant
from pbx.events import EventBus
from pbx.mail import Mailer
from tests.support.database import run_on_fresh_database

SMTP_PORT = 40710 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0")) % 1000
START = datetime(2026, 11, 1, tzinfo=timezone.utc)
ENDS = START + timedelta(days=30)


class Inbox:
    def __init__(self):
        self.messages, self.refuse = [], False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class PlanRecorder:
    """Stands where TenantService is: a renewal's plan change goes through it."""

    def __init__(self):
        self.changes = []

    async def update(self, unit, principal, tenant_id, fields):
        self.changes.append((tenant_id, fields))
        tenant = await unit.session.get(Tenant, tenant_id)
        tenant.plan = fields["plan"]
        return tenant


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


def run(tmp_path, scenario):
    async def main(database):
        async with database.unit() as unit:
            unit.session.add(Tenant(id=1, name="Deneme Ltd", plan="kobi"))
            unit.session.add(Tenant(id=2, name="Sözleşmeli A.Ş.", plan="kobi"))
            await unit.session.flush()
            unit.session.add(Extension(tenant_id=1, number="101", name="Ayşe", sip_username="u101"))
            unit.session.add(BillingAccount(tenant_id=1, timezone="Europe/Istanbul", circuit_pricing=False,
                                            trial_ends_at=ENDS, trial_converted=False, term_started_at=START,
                                            billing_email="muhasebe@deneme.example", reminders_sent=[]))
            unit.session.add(BillingAccount(tenant_id=2, timezone="Europe/Istanbul", circuit_pricing=False,
                                            trial_converted=False, term_started_at=START, pending_plan="girisimci",
                                            billing_email="it@sozlesmeli.example", reminders_sent=[]))
        events = EventBus(database)
        seen = []
        events.listeners.append(lambda e: _append(seen, e))
        plans = PlanRecorder()
        job = TermsJob(database, events, Mailer("127.0.0.1", SMTP_PORT, "fatura@santral.example"),
                       catalogue.load(), plans, interval_s=3600)
        return await scenario(database, job, seen, plans)

    return run_on_fresh_database(tmp_path, main)


async def _append(seen, event):
    seen.append((event.type, event.tenant_id, event.data))


def test_trial_reminders_then_suspension_and_nothing_is_deleted(tmp_path, inbox):
    async def scenario(database, job, seen, plans):
        assert await job.run(ENDS - timedelta(days=8)) == {"reminders": 0, "suspended": 0, "renewed": 0}
        inbox.refuse = True
        assert (await job.run(ENDS - timedelta(days=7)))["reminders"] == 0  # refused: still owed
        inbox.refuse = False
        assert (await job.run(ENDS - timedelta(days=6, hours=23)))["reminders"] == 1
        assert (await job.run(ENDS - timedelta(days=6)))["reminders"] == 0  # sent once only
        assert (await job.run(ENDS - timedelta(hours=20)))["reminders"] == 1
        assert (await job.run(ENDS + timedelta(minutes=1)))["suspended"] == 1
        assert (await job.run(ENDS + timedelta(minutes=2)))["suspended"] == 0
        async with database.read() as session:
            tenant = await session.get(Tenant, 1)
            extensions = list(await session.scalars(select(Extension.number).where(Extension.tenant_id == 1)))
        assert tenant.suspended and extensions == ["101"]
        return seen

    seen = run(tmp_path, scenario)
    assert [m["Subject"] for m in inbox.messages] == ["Deneme süreniz 7 gün sonra bitiyor",
                                                      "Deneme süreniz 1 gün sonra bitiyor"]
    assert inbox.messages[0]["To"] == "muhasebe@deneme.example"
    # the reminder's own id: a copy sent again after a crash is recognised as the same mail
    assert [m["Message-ID"] for m in inbox.messages] == ["<billing-1-trial-7@pbx>", "<billing-1-trial-1@pbx>"]
    assert "Sayın Deneme Ltd" in inbox.messages[0].get_content()
    assert [e[0] for e in seen if e[1] == 1] == ["billing.reminder", "billing.reminder", "billing.suspended"]


def test_a_downgrade_waits_for_renewal_with_a_reminder_first(tmp_path, inbox):
    end = term_end(START, 12)

    async def scenario(database, job, seen, plans):
        assert (await job.run(end - timedelta(days=30)))["reminders"] == 1
        assert plans.changes == []
        assert (await job.run(end))["renewed"] == 1
        async with database.read() as session:
            account = await session.get(BillingAccount, 2)
        assert account.term_started_at == end and account.pending_plan is None
        return plans.changes

    assert run(tmp_path, scenario) == [(2, {"plan": "girisimci"})]
    assert any(m["Subject"] == "Sözleşmenizin yenilenmesi yaklaşıyor" and m["To"] == "it@sozlesmeli.example"
               for m in inbox.messages)
