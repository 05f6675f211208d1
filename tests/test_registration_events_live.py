"""extension.registered / extension.unregistered against the real Asterisk with a real phone:
once per change of state (a refresh raises nothing), to the extension's own tenant and agent
only, from a phone's unregistration, a reset password, a deleted extension, what happened while the control
plane was down (raised once after it comes back), and what a lost report left wrong (raised once by the
periodic sweep, every 2 s here: tests/support/stack.py)."""
from __future__ import annotations

import time

from tests.support.events import EventStream


def _of(type, **data):
    return lambda e: e["type"] == type and all(e["data"].get(k) == v for k, v in data.items())


def _registrations(stream) -> list[tuple[str, str]]:
    return [(e["type"], e["data"].get("reason")) for e in stream.events if e["type"].startswith("extension.")]


def test_registered_and_unregistered_once_per_change_to_the_tenant_and_its_agent_only(stack, phones):
    tenant, api = stack.new_tenant()
    other, other_api = stack.new_tenant()
    base, tid = stack.operator.base, tenant["id"]
    ext = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "101", "name": "Ayşe"})
    api.ok("POST", f"/tenants/{tid}/extensions", {"number": "102", "name": "Can"})
    stream, mine = EventStream(base, tid, api.token), EventStream(base, tid, api.token, query="extension=101")
    agent_102 = EventStream(base, tid, api.token, query="extension=102")
    others = EventStream(base, other["id"], other_api.token)
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        registered = stream.wait_for(_of("extension.registered", extension="101"))
        assert registered and registered["tenant_id"] == tid, stream.events
        data = registered["data"]
        assert data["contact"].startswith(f"sip:{ext['sip']['username']}@127.0.0.1:")
        assert data["user_agent"] == "pbx-test-phone" and data["via"] and data["extension_id"] == ext["id"]
        assert mine.wait_for(_of("extension.registered", extension="101"))
        assert api.ok("GET", f"/tenants/{tid}/extensions/{ext['id']}/status")["registered"] is True
        phone.reregister()  # a refresh: the same contact, a new expiry
        assert phone.wait_registered() == 200
        phone.unregister()
        assert phone.wait_registered() == 200
        unregistered = stream.wait_for(_of("extension.unregistered", extension="101"))
        assert unregistered and unregistered["data"]["reason"] == "unregistered", stream.events
        assert unregistered["seq"] > registered["seq"]
        phone.reregister()  # registered again: a new registration; then its password is reset
        assert stream.wait_for(lambda e: len(_registrations(stream)) == 3)
        reset = api.ok("POST", f"/tenants/{tid}/extensions/{ext['id']}/sip-password", status=200)
        assert stream.wait_for(lambda e: len(_registrations(stream)) == 4), stream.events
        phone.set_password(reset["sip"]["password"])  # back with the new one; then the extension goes
        assert phone.wait_registered() == 200
        assert stream.wait_for(lambda e: len(_registrations(stream)) == 5), stream.events
        assert api.delete(f"/tenants/{tid}/extensions/{ext['id']}").status_code == 204
        assert stream.wait_for(lambda e: len(_registrations(stream)) == 6), stream.events
        time.sleep(1.5)  # anything doubled would have come by now
        expected = [("extension.registered", None), ("extension.unregistered", "unregistered"),
                    ("extension.registered", None), ("extension.unregistered", "removed"),
                    ("extension.registered", None), ("extension.unregistered", "removed")]
        assert _registrations(stream) == expected
        assert _registrations(mine) == expected  # the agent of 101 sees its own extension's
        assert _registrations(agent_102) == [] and others.events == []
    finally:
        phone.remove()
        for s in (stream, mine, agent_102, others):
            s.close()


def test_what_changed_while_the_control_plane_was_down_is_raised_once_after(stack, phones):
    tenant, api = stack.new_tenant()
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Deniz"})
    # Open before the phone registers: opened after, it missed the event when that came first.
    stream = EventStream(stack.operator.base, tenant["id"], api.token)
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        assert stream.wait_for(_of("extension.registered", extension="101")), stream.events
        last = max(e["seq"] for e in stream.events)
        stream.close()
        stack.control.stop()
        phone.unregister()  # no one hears Asterisk's report
        assert phone.wait_registered() == 200
        stack.control.start()
        stack.wait_ami(60)
        replay = EventStream(stack.operator.base, tenant["id"], api.token, query=f"after={last}")
        try:
            assert replay.wait_for(_of("extension.unregistered", extension="101", reason="unregistered"))
            stack.control.stop()  # and once more: nothing changed, nothing raised
            stack.control.start()
            stack.wait_ami(60)
        finally:
            replay.close()
        time.sleep(1.5)
        again = EventStream(stack.operator.base, tenant["id"], api.token, query=f"after={last}")
        try:
            time.sleep(1)
            assert _registrations(again) == [("extension.unregistered", "unregistered")]
        finally:
            again.close()
    finally:
        phone.remove()


def test_the_sweep_raises_what_lost_reports_left_wrong_once_and_then_nothing(stack, phones):
    """The reports are "lost" by changing the table behind the control plane's back: 101's phone
    stays registered but its row goes, and 102, never registered, gets a row."""
    tenant, api = stack.new_tenant()
    tid = tenant["id"]
    ext = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "101", "name": "Ece"})
    idle = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "102", "name": "Oya"})
    stream = EventStream(stack.operator.base, tid, api.token)
    phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        assert stream.wait_for(_of("extension.registered", extension="101")), stream.events
        stack.sql("DELETE FROM extension_registrations WHERE extension_id = :id", id=ext["id"])
        stack.sql("INSERT INTO extension_registrations (extension_id, tenant_id, sip_id, contact, node, since) "
                  "VALUES (:id, :tid, :sip, 'sip:102@192.0.2.1:5060', :node, CURRENT_TIMESTAMP)", id=idle["id"],
                  tid=tid, sip=idle["sip"]["username"], node=f"{stack.settings.ami_host}:{stack.settings.ami_port}")
        assert stream.wait_for(lambda e: len(_registrations(stream)) == 3, timeout=60), stream.events
        time.sleep(3 * stack.settings.registration_resync_s + 2)  # the passes after: nothing changed, nothing raised
        assert sorted(_registrations(stream)) == [("extension.registered", None), ("extension.registered", None),
                                                  ("extension.unregistered", "unregistered")]
        again, lost = [e for e in stream.events if e["type"].startswith("extension.")][1:]
        assert again["data"]["extension"] == "101" and again["data"]["contact"].startswith(
            f"sip:{ext['sip']['username']}@127.0.0.1:")
        assert lost["data"] == {"extension": "102", "extension_id": idle["id"], "contact": "sip:102@192.0.2.1:5060",
                                "reason": "unregistered"}
        assert stack.sql("SELECT sip_id FROM extension_registrations WHERE tenant_id = :tid", tid=tid) == [
            (ext["sip"]["username"],)]
    finally:
        phone.remove()
        stream.close()

