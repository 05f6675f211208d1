"""extension.registered / unregistered: the registrar's reports read, astdb's and AMI's contacts
parsed, one event per change of state (a refresh, a replayed report, a second contact raise
nothing), expiry, a restart's resync, the periodic sweep (a lost report raised once, a report racing
it raised once with its own reason), and a cluster node leaving another node's rows alone."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from pbx.config import settings_from_env
from pbx.db.event_tables import EventRow, ExtensionRegistration
from pbx.db.models import Extension, Tenant
from pbx.eventing import registration_state as state
from pbx.eventing import registrations
from pbx.eventing.registrations import RegistrationEvents
from pbx.events import EventBus
from tests.support.database import run_on_fresh_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SIP = "101-abcd1234"


def _report(state_name, aor=SIP, **extra):
    return {"Event": "TestEvent", "State": state_name, "AOR": aor, **extra}


def test_only_the_registrars_three_reports_of_a_plain_aor_are_read():
    assert state.report_of(_report(state.ADDED, Expiration="300")) == state.Report(state.ADDED, SIP, 300)
    assert state.report_of(_report(state.REMOVED)) == state.Report(state.REMOVED, SIP, None)
    assert state.report_of(_report(state.REFRESHED, Expiration="x")).expiration_s is None
    for message in (_report("AOR_CONTACT_UPDATE"), _report("INCOMING_AUTH_VERIFY_RESULT"), {"State": state.ADDED},
                    _report(state.ADDED, aor="101\r\nAction: Hangup"), _report(state.ADDED, aor="a;b"),
                    _report(state.ADDED, aor="x" * 41)):
        assert state.report_of(message) is None, message


def test_astdb_contacts_are_grouped_by_aor_and_only_live_ones_kept():
    def value(uri, expires, **more):
        return json.dumps({"uri": uri, "expiration_time": str(int(expires.timestamp())), **more})
    tree = {f"contact/{SIP};@aa": value("sip:a@1.2.3.4:5060", NOW + timedelta(seconds=60),
                                        user_agent="Yealink", via_addr="1.2.3.4", via_port="5060"),
            f"contact/{SIP};@bb": value("sip:old@1.2.3.4", NOW - timedelta(seconds=1)),  # expired
            "contact/102-x;@cc": "not json", "contact/103-y;@dd": json.dumps({"expiration_time": "9"}),
            "other/key": value("sip:z@1", NOW + timedelta(hours=1))}
    found = state.contacts_by_aor(tree, NOW)
    assert list(found) == [SIP]
    (contact,) = found[SIP]
    assert (contact.uri, contact.user_agent, contact.via) == ("sip:a@1.2.3.4:5060", "Yealink", "1.2.3.4:5060")


def test_ami_contacts_keep_live_ones_with_their_via():
    soon, gone = int((NOW + timedelta(seconds=30)).timestamp()), int((NOW - timedelta(seconds=30)).timestamp())
    found = state.contacts_from_ami([{"uri": "sip:a@h", "expires_at": soon, "user_agent": "UA", "via": "h:5"},
                                     {"uri": "sip:b@h", "expires_at": gone}, {"uri": None}], NOW)
    assert [(c.uri, c.via) for c in found] == [("sip:a@h", "h:5")]


def test_only_a_change_of_state_is_an_event():
    contact = state.Contact("sip:a@h", NOW)
    assert state.change(False, [contact]) == "extension.registered"
    assert state.change(True, []) == "extension.unregistered"
    assert state.change(True, [contact]) is None and state.change(False, []) is None


def test_the_reason_is_what_made_us_look_else_whether_it_ran_out():
    assert state.unregistered_reason("unregistered", NOW - timedelta(hours=1), NOW) == "unregistered"
    assert state.unregistered_reason(None, NOW - timedelta(seconds=1), NOW) == "expired"
    assert state.unregistered_reason(None, NOW + timedelta(seconds=1), NOW) == "unregistered"
    assert state.unregistered_reason(None, None, NOW) == "unregistered"


class FakeAmi:
    def __init__(self):
        self.contacts_now: dict[str, list[dict]] = {}
        self.asked: list[str] = []

    async def contacts(self, endpoint):
        self.asked.append(endpoint)
        return self.contacts_now.get(endpoint, [])

    async def family(self, family, timeout_s=None):
        assert family == "registrar" and timeout_s == registrations.FAMILY_TIMEOUT_S
        return {f"contact/{aor};@{i}": json.dumps({"uri": c["uri"], "expiration_time": str(c["expires_at"])})
                for aor, found in self.contacts_now.items() for i, c in enumerate(found)}


def _live(seconds=300):
    return [{"uri": "sip:101@10.0.0.5:5060", "expires_at": int(datetime.now(timezone.utc).timestamp()) + seconds,
             "user_agent": "UA", "via": "10.0.0.5:5060"}]


async def _setup(database):
    async with database.unit() as unit:
        unit.session.add(Tenant(id=7, name="T", plan="kobi"))
        await unit.session.flush()
        unit.session.add(Extension(id=1, tenant_id=7, number="101", name="A", sip_username=SIP))


async def _events(database) -> list[tuple[str, dict]]:
    async with database.read() as session:
        return [(r.type, r.data) for r in await session.scalars(select(EventRow).order_by(EventRow.seq))]


async def _drain(events: RegistrationEvents):
    while not events.queue.empty():
        await events._handle(*events.queue.get_nowait())


def test_reports_replays_refreshes_and_removal_make_one_event_per_change(tmp_path):
    async def main(database):
        await _setup(database)
        ami = FakeAmi()
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        ami.contacts_now[SIP] = _live()
        watcher.on_test_event(None, _report(state.ADDED, Expiration="300"))
        watcher.on_test_event(None, _report(state.ADDED, Expiration="300"))  # replayed
        await _drain(watcher)
        asked = len(ami.asked)
        watcher.on_test_event(None, _report(state.REFRESHED, Expiration="600"))  # memory only
        assert watcher.queue.empty() and len(ami.asked) == asked and SIP in watcher.expiry
        ami.contacts_now[SIP] = []
        watcher.on_test_event(None, _report(state.REMOVED))
        watcher.on_test_event(None, _report(state.REMOVED))
        await _drain(watcher)
        got = await _events(database)
        assert [(t, d.get("reason")) for t, d in got] == [("extension.registered", None),
                                                          ("extension.unregistered", "unregistered")]
        assert got[0][1] | {"expires_at": None} == {"extension": "101", "extension_id": 1,
                                                   "contact": "sip:101@10.0.0.5:5060", "user_agent": "UA",
                                                   "via": "10.0.0.5:5060", "expires_at": None}
        assert SIP not in watcher.expiry

    run_on_fresh_database(tmp_path, main)


def test_an_expired_registration_is_unregistered_once_by_the_timer(tmp_path, monkeypatch):
    async def main(database):
        await _setup(database)
        ami = FakeAmi()
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        ami.contacts_now[SIP] = _live()
        watcher.on_test_event(None, _report(state.ADDED))
        await _drain(watcher)
        ami.contacts_now[SIP] = []  # Asterisk dropped it on a read, with no report
        later = datetime.now(timezone.utc) + timedelta(seconds=400)
        monkeypatch.setattr(registrations, "_now", lambda: later)
        await watcher._handle("expired", None, None)
        await watcher._handle("expired", None, None)
        assert [(t, d["reason"]) for t, d in await _events(database) if t.endswith("unregistered")] == [
            ("extension.unregistered", "expired")]

    run_on_fresh_database(tmp_path, main)


def test_a_resync_raises_what_changed_while_away_once_and_leaves_another_nodes_rows(tmp_path):
    async def main(database):
        await _setup(database)
        async with database.unit() as unit:
            unit.session.add(Extension(id=2, tenant_id=7, number="102", name="B", sip_username="102-zzzz9999"))
            await unit.session.flush()
            unit.session.add(ExtensionRegistration(extension_id=2, tenant_id=7, sip_id="102-zzzz9999",
                                                   contact="sip:102@h", node="n2", since=NOW))
        ami = FakeAmi()
        ami.contacts_now[SIP] = _live()
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        await watcher._handle("resync", None, None)
        await watcher._handle("resync", None, None)  # a second login: nothing new
        ami.contacts_now[SIP] = []
        await watcher._handle("resync", None, None)
        got = await _events(database)
        assert [(t, d["extension"], d.get("reason")) for t, d in got] == [
            ("extension.registered", "101", None), ("extension.unregistered", "101", "unregistered")]
        async with database.read() as session:  # n2's phone is n2's business
            assert [r.sip_id for r in await session.scalars(select(ExtensionRegistration))] == ["102-zzzz9999"]

    run_on_fresh_database(tmp_path, main)


def test_a_deleted_extensions_registration_ends_with_reason_removed(tmp_path):
    async def main(database):
        await _setup(database)
        ami = FakeAmi()
        ami.contacts_now[SIP] = _live()
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        await watcher._handle("check", SIP, None)
        async with database.unit() as unit:
            extension = await unit.session.get(Extension, 1)
            await watcher.extension_removed(unit, extension)
            await unit.session.delete(extension)
        async with database.unit() as unit:  # one that was not registered: nothing
            unit.session.add(Extension(id=3, tenant_id=7, number="103", name="C", sip_username="103-q"))
        async with database.unit() as unit:
            await watcher.extension_removed(unit, await unit.session.get(Extension, 3))
        assert [(t, d.get("reason")) for t, d in await _events(database)] == [
            ("extension.registered", None), ("extension.unregistered", "removed")]

    run_on_fresh_database(tmp_path, main)


def test_queued_reports_are_settled_together_and_a_resync_keeps_its_place(tmp_path):
    async def main(database):
        await _setup(database)
        async with database.unit() as unit:
            unit.session.add(Extension(id=2, tenant_id=7, number="102", name="B", sip_username="102-zzzz9999"))
        ami = FakeAmi()
        ami.contacts_now = {SIP: _live(), "102-zzzz9999": _live()}
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        for aor in (SIP, "102-zzzz9999"):
            watcher.on_test_event(None, _report(state.ADDED, aor=aor))
        watcher.on_login()
        watcher.on_test_event(None, _report(state.REMOVED))
        await watcher._handle(*watcher.queue.get_nowait())
        assert watcher._held == ("resync", None, None) and watcher.queue.qsize() == 1
        assert sorted(d["extension"] for _t, d in await _events(database)) == ["101", "102"]

    run_on_fresh_database(tmp_path, main)


def test_a_contact_the_control_plane_dropped_is_looked_at_as_removed():
    watcher = RegistrationEvents(None, None, FakeAmi(), node="n1")
    watcher.contact_dropped(SIP)
    assert watcher.queue.get_nowait() == ("check", SIP, "removed")


async def _second_look(watcher: RegistrationEvents) -> None:
    """The confirmation the sweep scheduled (CONFIRM_S is 0 here), then what it queued."""
    await asyncio.sleep(0)
    await _drain(watcher)


async def _unregistered_102_row(database, expires_at=None):
    async with database.unit() as unit:
        unit.session.add(Extension(id=2, tenant_id=7, number="102", name="B", sip_username="102-zzzz9999"))
        await unit.session.flush()
        unit.session.add(ExtensionRegistration(extension_id=2, tenant_id=7, sip_id="102-zzzz9999",
                                               contact="sip:102@h", node="n1", expires_at=expires_at, since=NOW))


def test_a_sweep_raises_each_lost_change_once_after_a_second_look_and_then_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(registrations, "CONFIRM_S", 0)

    async def main(database):
        await _setup(database)
        await _unregistered_102_row(database, expires_at=NOW)  # its REMOVED was lost; it had run out
        ami = FakeAmi()
        ami.contacts_now[SIP] = _live()  # its ADDED was lost
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        await watcher.sweep()
        await _drain(watcher)
        await asyncio.sleep(0)
        assert await _events(database) == []  # not before its second look, which is queued now
        assert watcher.queue.get_nowait() == ("confirm", frozenset({SIP, "102-zzzz9999"}), None)
        await watcher._handle("confirm", frozenset({SIP, "102-zzzz9999"}), None)
        for _ in range(3):  # the following passes: nothing changed, nothing raised, no second look
            await watcher.sweep()
            await _drain(watcher)
            assert watcher._confirm is None
        got = await _events(database)
        assert [(t, d["extension"], d.get("reason")) for t, d in got] == [
            ("extension.registered", "101", None), ("extension.unregistered", "102", "expired")]
        assert SIP in watcher.expiry and not ami.asked  # one family read per pass, no per-AOR action

    run_on_fresh_database(tmp_path, main)


def test_a_report_that_races_the_sweep_is_raised_once_with_its_own_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(registrations, "CONFIRM_S", 0)

    async def main(database):
        await _setup(database)
        await _unregistered_102_row(database)
        ami = FakeAmi()
        ami.contacts_now[SIP] = _live()  # 101 registers, 102's contact is dropped by a password reset:
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        await watcher.sweep()
        await _drain(watcher)  # the sweep saw both before their reports came
        watcher.on_test_event(None, _report(state.ADDED, Expiration="300"))
        watcher.contact_dropped("102-zzzz9999")
        await _drain(watcher)  # the reports, queued before the second look, settle first
        await _second_look(watcher)
        await watcher._handle("resync", None, None)  # and a login's comparison finds nothing either
        got = await _events(database)
        assert [(t, d["extension"], d.get("reason")) for t, d in got] == [
            ("extension.registered", "101", None), ("extension.unregistered", "102", "removed")]

    run_on_fresh_database(tmp_path, main)


def test_the_sweep_interval_is_a_setting_and_zero_turns_it_off():
    assert settings_from_env(env={}).registration_resync_s == 300
    assert settings_from_env(env={"PBX_REGISTRATION_RESYNC_SECONDS": "30"}).registration_resync_s == 30
    assert settings_from_env(env={"PBX_REGISTRATION_RESYNC_SECONDS": "0"}).registration_resync_s == 0


def test_a_sweep_leaves_a_row_another_node_holds_though_a_stale_contact_is_here(tmp_path, monkeypatch):
    """The phone moved to n2 (its row says so); n1 keeps its old contact until it expires."""
    monkeypatch.setattr(registrations, "CONFIRM_S", 0)

    async def main(database):
        await _setup(database)
        async with database.unit() as unit:
            unit.session.add(ExtensionRegistration(extension_id=1, tenant_id=7, sip_id=SIP, contact="sip:101@h",
                                                   node="n2", since=NOW))
        ami = FakeAmi()
        ami.contacts_now[SIP] = _live()
        watcher = RegistrationEvents(database, EventBus(database), ami, node="n1")
        await watcher.sweep()
        await _drain(watcher)
        assert watcher._confirm is None
        await watcher._handle("confirm", frozenset({SIP}), None)  # a second look that was due already
        async with database.read() as session:
            assert (await session.get(ExtensionRegistration, 1)).node == "n2"
        assert await _events(database) == []

    run_on_fresh_database(tmp_path, main)
