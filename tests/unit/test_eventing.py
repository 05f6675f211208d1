"""Events' pure parts: the signature, the retry schedule, the SSRF guard,
the Dial events made from AMI; and seq allocation in the outbox."""
from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from pbx.db.event_tables import EventRow, Webhook, WebhookDelivery
from pbx.db.models import Tenant
from pbx.domain.errors import Invalid
from pbx.eventing.calls import dial_event, extension_of
from pbx.eventing.retry import RetrySchedule, schedule_from
from pbx.eventing.signature import sign, verify
from pbx.eventing.ssrf import address_allowed, allowed_networks, checked_addresses
from pbx.events import EventBus

from tests.support.database import run_on_fresh_database


def test_signature_is_hmac_of_timestamp_and_body():
    import hashlib
    import hmac
    header = sign("s3cret", b'{"a":1}', 1700000000)
    expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("s3cret", b'{"a":1}', header, now=1700000010)


@pytest.mark.parametrize("header", ["", "t=x,v1=00", "v1=00", "t=1700000000,v1=" + "0" * 64])
def test_signature_refuses_garbage(header):
    assert not verify("s3cret", b"{}", header, now=1700000000)


def test_signature_refuses_other_body_secret_or_old_timestamp():
    header = sign("s3cret", b"{}", 1700000000)
    assert not verify("s3cret", b"{ }", header, now=1700000000)
    assert not verify("other", b"{}", header, now=1700000000)
    assert not verify("s3cret", b"{}", header, now=1700000000 + 301)  # a replay, later


def test_retry_schedule_grows_with_jitter_and_lasts_a_day():
    schedule, rng = RetrySchedule(), random.Random(1)
    delays = [schedule.delay(n, rng) for n in range(1, 30)]
    ceilings = [min(3600, 10 * 2 ** (n - 1)) for n in range(1, 30)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings))
    assert len({round(d, 3) for d in delays}) == len(delays)  # jittered, not one fixed list
    assert not schedule.exhausted(23.9 * 3600) and schedule.exhausted(24 * 3600)
    # Kept up for the whole day: even the longest delays (1 h) mean ~30 tries after the first hour.
    assert sum(ceilings) / 2 < 24 * 3600


def test_retry_schedule_from_env():
    assert schedule_from("") == RetrySchedule()
    assert schedule_from("0.2,1,30") == RetrySchedule(0.2, 1.0, 30.0)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.3.4", "192.168.1.1", "169.254.169.254",
                                     "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1",
                                     "100.64.0.1"])
def test_ssrf_refuses_internal_addresses(address):
    assert not address_allowed(address, ())


def test_ssrf_allows_public_and_operator_networks():
    assert address_allowed("93.184.216.34", ())
    assert address_allowed("127.0.0.1", allowed_networks("127.0.0.0/8, 10.1.0.0/16"))
    assert not address_allowed("10.2.0.1", allowed_networks("127.0.0.0/8, 10.1.0.0/16"))


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/hook",
                                 "http://localhost:9/x", "http://[::1]/x", "ftp://example.com/",
                                 "http://user:pw@93.184.216.34/", "http:///nohost", "http://0x7f000001/"])
def test_ssrf_checked_urls_refused(url):
    with pytest.raises(Invalid):
        asyncio.run(checked_addresses(url, ()))


def _dial(**fields):
    base = {"Event": "DialBegin", "DestChannel": "PJSIP/101-k3f9x2ab-0000002a", "Linkedid": "1700.1",
            "DestUniqueid": "1700.2", "CallerIDNum": "02125550100",
            "ChanVariable": ["PBX_TENANT=7", "PBX_ROUTE=inbound", "PBX_DIALLED=+908505550331"]}
    return base | fields


def test_dial_events_from_ami():
    ringing = dial_event(_dial())
    assert (ringing.type, ringing.tenant_id, ringing.dedupe_key) == ("call.ringing", 7, "call.ringing:1700.2")
    assert ringing.data == {"call_id": "1700.1", "direction": "inbound", "caller": "02125550100", "callee": "101",
                            "number": "+908505550331", "extension": "101"}
    answered = dial_event(_dial(Event="DialEnd", DialStatus="ANSWER"))
    assert (answered.type, answered.dedupe_key) == ("call.answered", "call.answered:1700.1")
    assert dial_event(_dial(Event="DialEnd", DialStatus="NOANSWER")) is None
    assert dial_event(_dial(ChanVariable="PBX_TENANT=")) is None  # not routed by the control plane
    assert dial_event(_dial(DestChannel="PJSIP/trunk-a1b2c3-00000001")) is None
    assert extension_of("Local/101@x-0001;1") is None


def run_db(tmp_path, scenario):
    async def main(database):
        async with database.unit() as unit:
            unit.session.add_all([Tenant(id=7, name="T", plan="kobi"), Tenant(id=8, name="U", plan="kobi")])
            await unit.session.flush()
            unit.session.add(Webhook(tenant_id=7, url="http://x/", events=["call.ended"], secret="s" * 16))
        return await scenario(database)

    return run_on_fresh_database(tmp_path, main, "e.sqlite3")


def test_seq_per_tenant_increasing_published_after_commit_and_deduplicated(tmp_path):
    async def scenario(database):
        bus, published = EventBus(database), []
        bus.sinks.append(published.append)

        async def one(tenant, type="job.finished", key=None):
            async with database.unit() as unit:
                await bus.emit(type, tenant, {"n": 1}, unit=unit, dedupe_key=key)
                assert not [e for e in published if e["tenant_id"] == tenant and e.get("_late")]

        await asyncio.gather(*(one(7) for _ in range(20)), *(one(8) for _ in range(5)))
        await one(7, "call.ended", "call.ended:1")
        await one(7, "call.ended", "call.ended:1")  # an AMI replay
        with pytest.raises(RuntimeError):
            async with database.unit() as unit:
                await bus.emit("job.finished", 7, {}, unit=unit)
                raise RuntimeError("rolled back")
        await bus.emit("job.finished", 8, {"own": True})  # no unit: gets its own
        async with database.read() as session:
            rows = (await session.execute(select(EventRow.tenant_id, EventRow.seq).order_by(EventRow.seq))).all()
            owed = list(await session.scalars(select(WebhookDelivery.seq)))
        return published, rows, owed

    published, rows, owed = run_db(tmp_path, scenario)
    assert sorted(s for t, s in rows if t == 7) == list(range(1, 22))
    assert sorted(s for t, s in rows if t == 8) == list(range(1, 7))
    assert len(published) == 27 and len({e["id"] for e in published}) == 27
    assert owed == [21]  # only the call.ended the webhook subscribes to, once


class ScriptedSender:
    """Answers each send with the next status of a script (None: no answer)."""

    def __init__(self, statuses):
        from pbx.eventing.sender import Outcome
        self.outcomes = [Outcome(s, None if s else "TimeoutError") for s in statuses]
        self.sent = []

    async def send(self, url, secret, event):
        self.sent.append(event["seq"])
        return self.outcomes.pop(0) if self.outcomes else self.outcomes_default()

    @staticmethod
    def outcomes_default():
        from pbx.eventing.sender import Outcome
        return Outcome(200)

    async def close(self):
        pass


def _dispatch(tmp_path, statuses, schedule, events=2):
    from pbx.eventing.dispatcher import WebhookDispatcher

    async def scenario(database):
        bus, published = EventBus(database), []
        bus.sinks.append(published.append)
        for n in range(events):
            await bus.emit("call.ended", 7, {"n": n})
        sender = ScriptedSender(statuses)
        dispatcher = WebhookDispatcher(database, bus, sender, schedule)
        for _ in range(500):  # until nothing is pending (delivered, gone or failed), ~10 s at most
            await dispatcher.dispatch_due()
            await dispatcher.idle()
            async with database.read() as session:
                if not await session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")):
                    break
            await asyncio.sleep(0.02)
        async with database.read() as session:
            rows = (await session.execute(select(WebhookDelivery.seq, WebhookDelivery.status,
                                                 WebhookDelivery.attempts).order_by(WebhookDelivery.seq))).all()
            hook = await session.scalar(select(Webhook))
        return sender.sent, rows, hook.enabled, [e["type"] for e in published]

    return run_db(tmp_path, scenario)


def test_dispatcher_retries_in_seq_order_and_410_stops(tmp_path):
    sent, rows, enabled, _ = _dispatch(tmp_path, [503, None, 200, 410], RetrySchedule(0.01, 0.02, 3600))
    assert sent == [1, 1, 1, 2]  # seq 2 waits while seq 1 is retried
    assert [tuple(r) for r in rows] == [(1, "delivered", 3), (2, "gone", 1)] and enabled


def test_dispatcher_disables_a_webhook_failing_for_the_give_up_time(tmp_path):
    sent, rows, enabled, types = _dispatch(tmp_path, [500] * 50, RetrySchedule(0.01, 0.02, 0.05), events=1)
    assert not enabled and [r.status for r in rows] == ["failed"]
    assert types.count("webhook.disabled") == 1


class HangingSender:
    """The receiver at `slow` takes the request and never answers (until cancelled); every other
    answers 200."""

    def __init__(self, slow: str):
        self.slow, self.sent, self.hanging = slow, [], 0

    async def send(self, url, secret, event):
        from pbx.eventing.sender import Outcome
        self.sent.append((url, event["seq"]))
        if url == self.slow:
            self.hanging += 1
            await asyncio.Event().wait()
        return Outcome(200)

    async def close(self):
        pass


def test_a_hanging_receiver_holds_up_only_itself_and_a_restart_mid_delivery_loses_nothing(tmp_path):
    from pbx.eventing.dispatcher import WebhookDispatcher

    async def statuses(database):
        async with database.read() as session:
            return dict((await session.execute(select(Webhook.url, WebhookDelivery.status)
                                               .join(Webhook, Webhook.id == WebhookDelivery.webhook_id))).all())

    async def scenario(database):
        async with database.unit() as unit:
            unit.session.add(Webhook(tenant_id=7, url="http://fast/", events=["call.ended"], secret="s" * 16))
        bus = EventBus(database)
        await bus.emit("call.ended", 7, {"n": 1})
        hanging = HangingSender(slow="http://x/")
        dispatcher = WebhookDispatcher(database, bus, hanging, RetrySchedule(0.01, 0.02, 3600))
        await asyncio.wait_for(dispatcher.dispatch_due(), 5)  # returns while the slow one still hangs
        for _ in range(2000):  # until it is so, or clearly never
            if (await statuses(database)).get("http://fast/") == "delivered":
                break
            await asyncio.sleep(0.01)
        during = await statuses(database), hanging.hanging
        await dispatcher.stop()  # the control plane stops mid-delivery
        after_stop = await statuses(database)
        answering = HangingSender(slow="nowhere")
        again = WebhookDispatcher(database, bus, answering, RetrySchedule(0.01, 0.02, 3600))
        await again.dispatch_due()
        await again.idle()
        return during, after_stop, await statuses(database), answering.sent

    during, after_stop, final, resent = run_db(tmp_path, scenario)
    assert during == ({"http://x/": "pending", "http://fast/": "delivered"}, 1)
    assert after_stop == {"http://x/": "pending", "http://fast/": "delivered"}  # owed, not lost
    assert final == {"http://x/": "delivered", "http://fast/": "delivered"}
    assert resent == [("http://x/", 1)]  # only what was owed: the delivered one is not sent twice
