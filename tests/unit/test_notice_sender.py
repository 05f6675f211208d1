"""Notices: queued once per contact, channel and event; a failing channel is retried and
holds up no other; every attempt is logged; nobody is told twice. Fake channels (pure flow),
a real SQLite database."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from pbx.db.models import Tenant
from pbx.db.ops_tables import Notice, NoticeAttempt, NoticeContact
from pbx.ops.faults import FaultService
from pbx.ops.notices import queue_notices
from pbx.ops.sender import Channel, NoticeSender, each

from tests.support.database import run_on_fresh_database


def run(tmp_path, scenario):
    async def main(database):
        async with database.unit() as unit:
            unit.session.add(Tenant(id=7, name="Çınar A.Ş.", plan="kobi"))
            await unit.session.flush()
            unit.session.add(NoticeContact(tenant_id=7, name="Ayşe", phone="+905321112233", email="a@example.com",
                                           channels=["sms", "email"]))
        return await scenario(database)

    return run_on_fresh_database(tmp_path, main, "n.sqlite3")


def test_a_failing_sms_is_retried_and_delays_no_email(tmp_path):
    told: list[tuple[str, str]] = []
    failures = {"sms": 2}

    async def channel(name):
        async def send(notice, fault, tenant_name):
            if failures.get(name, 0) > 0:
                failures[name] -= 1
                raise RuntimeError("provider down")
            told.append((name, notice.event))
            return "ok"
        return send

    async def scenario(database):
        faults = FaultService(database)
        faults.listeners.append(queue_notices)
        async with database.unit() as unit:
            fault = await faults.open(unit, {"title": "Kesinti", "priority": "normal"}, source="complaint",
                                      by="test", tenant_id=7)
        sender = NoticeSender(database, {"sms": each(await channel("sms")), "email": each(await channel("email"))},
                              retry_s=0.01)
        await sender.send_due()
        assert told == [("email", "opened")]  # the e-mail went although the SMS failed
        for _ in range(20):
            await asyncio.sleep(0.05)
            await sender.send_due()
        assert sorted(told) == [("email", "opened"), ("sms", "opened")]
        async with database.unit() as unit:  # queued again for the same event: refused, nobody told twice
            try:
                await queue_notices(unit, fault, "opened")
                await unit.session.flush()
                raise AssertionError("a second notice for the same event was accepted")
            except Exception as exc:
                assert "UNIQUE" in str(exc) or "unique" in str(exc)
        async with database.read() as session:
            attempts = list(await session.scalars(select(NoticeAttempt).order_by(NoticeAttempt.id)))
            statuses = {n.channel: n.status for n in await session.scalars(select(Notice))}
        assert [a.ok for a in attempts].count(False) == 2 and [a.ok for a in attempts].count(True) == 2
        assert statuses == {"sms": "sent", "email": "sent"}

    run(tmp_path, scenario)


def test_a_slow_channel_does_not_hold_back_the_record_of_the_others(tmp_path):
    """An SMS provider that hangs (up to its timeout) or an IVR call that rings: the e-mail sent
    meanwhile is recorded at once, so a restart during the slow one does not send it again."""
    release = asyncio.Event()
    told: list[str] = []

    async def slow_sms(notice, fault, tenant_name):
        await release.wait()
        told.append("sms")
        return "ok"

    async def email(notice, fault, tenant_name):
        told.append("email")
        return "ok"

    async def statuses(database) -> dict[str, str]:
        async with database.read() as session:
            return {n.channel: n.status for n in await session.scalars(select(Notice))}

    async def scenario(database):
        faults = FaultService(database)
        faults.listeners.append(queue_notices)
        async with database.unit() as unit:
            await faults.open(unit, {"title": "Kesinti", "priority": "normal"}, source="complaint",
                              by="test", tenant_id=7)
        sender = NoticeSender(database, {"sms": each(slow_sms), "email": each(email)}, retry_s=60)
        sending = asyncio.create_task(sender.send_due())
        for _ in range(200):
            if (await statuses(database)).get("email") == "sent":
                break
            await asyncio.sleep(0.01)
        assert await statuses(database) == {"sms": "pending", "email": "sent"} and told == ["email"]
        release.set()
        assert await sending == 2
        assert await statuses(database) == {"sms": "sent", "email": "sent"}

    run(tmp_path, scenario)


def test_notices_go_in_batches_and_a_refused_batch_is_logged_for_each_and_retried(tmp_path):
    """250 contacts, a provider taking 100 per request, 3 at once: three requests; the first is
    refused whole (each of its notices gets a failed attempt and is tried again), the others
    are accepted; in the end everyone is told once and every attempt is in the log."""
    requests: list[int] = []
    refuse = {"next": 1}

    async def sms(items):
        requests.append(len(items))
        if refuse["next"]:
            refuse["next"] -= 1
            raise RuntimeError("limit exceeded")
        return [f"jobid {len(requests)}"] * len(items)

    async def scenario(database):
        async with database.unit() as unit:
            unit.session.add_all(NoticeContact(tenant_id=7, name=f"K{i}", phone=f"+9053200{i:05d}", channels=["sms"])
                                 for i in range(249))
        faults = FaultService(database)
        faults.listeners.append(queue_notices)
        async with database.unit() as unit:
            await faults.open(unit, {"title": "Kesinti", "priority": "normal"}, source="complaint", by="t", tenant_id=7)
        sender = NoticeSender(database, {"sms": Channel(sms, batch=100, in_flight=3)}, retry_s=0.01)
        assert await sender.send_due() == 150  # the e-mail of the first contact has no channel here
        assert sorted(requests) == [50, 100, 100]
        await asyncio.sleep(0.05)
        assert await sender.send_due() == 100
        async with database.read() as session:
            notices = {n.id: n for n in await session.scalars(select(Notice).where(Notice.channel == "sms"))}
            attempts = list(await session.scalars(select(NoticeAttempt)))
        assert len(notices) == 250 and {n.status for n in notices.values()} == {"sent"}
        sms_attempts = [a for a in attempts if a.notice_id in notices]
        assert sum(not a.ok for a in sms_attempts) == 100 and sum(a.ok for a in sms_attempts) == 250
        assert all(a.detail.startswith("RuntimeError: limit exceeded") for a in sms_attempts if not a.ok)

    run(tmp_path, scenario)


def test_a_sender_stopped_mid_fan_out_leaves_the_rest_to_the_next_start_and_tells_nobody_twice(tmp_path):
    """The first batch is recorded as sent; the process stops while the second is with the
    provider (not accepted); a new sender on the same database sends the second and third
    batches only."""
    told: list[str] = []
    hang, batches = asyncio.Event(), []

    async def first_life(items):
        batches.append(len(items))
        if len(batches) > 1:  # the second batch: the process stops before the provider answers
            await hang.wait()
        told.extend(i.notice.address for i in items)
        return ["ok"] * len(items)

    async def second_life(items):
        told.extend(i.notice.address for i in items)
        return ["ok"] * len(items)

    async def scenario(database):
        async with database.unit() as unit:
            unit.session.add_all(NoticeContact(tenant_id=7, name=f"K{i}", phone=f"+9053200{i:05d}", channels=["sms"])
                                 for i in range(24))
        faults = FaultService(database)
        faults.listeners.append(queue_notices)
        async with database.unit() as unit:
            await faults.open(unit, {"title": "Kesinti", "priority": "normal"}, source="complaint", by="t", tenant_id=7)
        first = NoticeSender(database, {"sms": Channel(first_life, batch=10), "email": Channel(second_life)},
                             retry_s=60)
        sending = asyncio.create_task(first.send_due())
        for _ in range(200):
            if len(batches) > 1:  # the first SMS batch is through, the second with the provider
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        sending.cancel()  # the process stops
        await asyncio.gather(sending, return_exceptions=True)
        second = NoticeSender(database, {"sms": Channel(second_life, batch=10), "email": Channel(second_life)},
                              retry_s=60)
        await second.send_due()
        async with database.read() as session:
            statuses = [n.status for n in await session.scalars(select(Notice))]
        return statuses

    statuses = run(tmp_path, scenario)
    assert statuses == ["sent"] * 26 and len(told) == 26 and len(set(told)) == 26
