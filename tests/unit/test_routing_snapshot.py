"""Decisions from a routing snapshot (pure): the same answers the database gave."""
from datetime import datetime, timezone

import pytest

from pbx.routing import decisions, fallback
from pbx.routing.snapshot import build
from tests.unit.routing_rows import rows

MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # 12:00 in Istanbul
MONDAY_NIGHT = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)
SNAP = build(rows())


def test_build_indexes():
    assert set(SNAP.endpoints) == {"101-t1", "102-t1", "103-t1", "101-t2"}
    assert SNAP.default_trunk == "trunk-b" and SNAP.trunks == {"trunk-a", "trunk-b"}
    tenant = SNAP.tenants[1]
    assert tenant.caller_id == "+908505550000"  # the first number
    assert tenant.resolved.menus[4].greeting == "/srv/pbx/audio/1/p7"
    assert tenant.resolved.groups[5].members == ("102-t1", "103-t1")  # 999 is no extension
    assert SNAP.numbers["+908505550099"].destination is None  # unparseable


def test_unknown_plan_leaves_the_tenant_out():
    data = rows()
    data.tenants[0] = (1, "retired", False, True)
    snap = build(data)
    assert 1 not in snap.tenants and "101-t1" not in snap.endpoints and "+908505550000" not in snap.numbers


def test_unchanged_tenants_are_reused_changed_ones_rebuilt():
    data = rows()
    data.extensions[2] = (3, 1, "103", "103-t1", False, True)  # tenant 1 changes, tenant 2 does not
    snap = build(data, SNAP)
    assert snap.tenants[2] is SNAP.tenants[2]
    assert snap.tenants[1] is not SNAP.tenants[1] and snap.endpoints["103-t1"].record
    assert build(rows(), SNAP).tenants[1] is SNAP.tenants[1]


@pytest.mark.parametrize("caller, dialled, action, dial", [
    ("101-t1", "102", "dial", "PJSIP/102-t1"), ("101-t2", "102", "unknown", ""), ("101-t1", "101", "unknown", ""),
    ("nobody", "102", "failure", ""), ("bad id!", "102", "failure", ""), ("101-t1", "1;2", "unknown", ""),
    ("101-t1", "02125550011", "outbound", "PJSIP/+902125550011@trunk-b"),
    ("101-t1", "00442079460958", "refused", ""), ("101-t2", "00442079460958", "outbound", ""),
    ("101-t1", "08505550001", "dial", "PJSIP/102-t1&PJSIP/103-t1"),  # own number -> ring group
    ("101-t2", "08505550001", "outbound", ""),  # another tenant's number is dialled out
])
def test_extension_calls(caller, dialled, action, dial):
    decision = decisions.from_extension_call(SNAP, caller, dialled, MONDAY_NOON)
    assert decision.action == action
    if dial:
        assert decision.dial == dial


def test_voicemail_after_an_unanswered_extension():
    decision = decisions.from_extension_call(SNAP, "101-t1", "102", MONDAY_NOON)
    assert decision.after == "vm:2"


@pytest.mark.parametrize("trunk, dialled, action", [
    ("trunk-a", "+908505550000", "dial"), ("trunk-a", "08505550000", "dial"), ("trunk-x", "+908505550000", "failure"),
    ("trunk-a", "+908505559999", "unknown"), ("trunk-a", "12", "unknown"), ("trunk-a", "+90;1", "unknown"),
    ("trunk-a", "9" * 40, "unknown"),
    ("trunk-a", "+908505550002", "hunt"), ("trunk-a", "+908505550003", "ivr"),
    ("trunk-a", "+908505550004", "announce"), ("trunk-a", "+908505550005", "voicemail"),
    ("trunk-a", "+908505550099", "failure"),
])
def test_inbound_calls(trunk, dialled, action):
    assert decisions.from_trunk(SNAP, trunk, dialled, MONDAY_NOON).action == action


def test_schedules_are_evaluated_at_call_time_not_at_build_time():
    assert decisions.from_trunk(SNAP, "trunk-a", "+908505550006", MONDAY_NOON).action == "dial"
    assert decisions.from_trunk(SNAP, "trunk-a", "+908505550006", MONDAY_NIGHT).action == "announce"


@pytest.mark.parametrize("args, action", [
    (("1", "4", "1", "1"), "dial"), (("1", "4", "1", "9"), "ivr"), (("1", "4", "2", ""), "hunt"),
    (("2", "4", "1", "1"), "failure"), (("1", "5", "1", "1"), "failure"), (("1", "4", "x", "1"), "failure"),
    (("1", "4", "1", "12"), "failure"),
])
def test_menu_keys(args, action):
    assert decisions.menu_key(SNAP, *args, MONDAY_NOON).action == action


@pytest.mark.parametrize("args, action", [
    (("1", "rg:5"), "voicemail"), (("1", "rg:6"), "hangup"), (("1", "vm:2"), "voicemail"),
    (("1", "vm:1"), "hangup"), (("2", "rg:5"), "hangup"), (("1", "rg:x"), "failure"), (("x", "vm:2"), "failure"),
])
def test_after_unanswered(args, action):
    assert decisions.after_unanswered(SNAP, *args, MONDAY_NOON).action == action


def test_fallback_entries_from_the_snapshot():
    entries = fallback.entries(SNAP, MONDAY_NOON)
    assert entries["ep/101-t1"] == "1" and entries["ext/1/102"] == "dial:PJSIP/102-t1"
    assert entries["did/908505550002"] == "dial:PJSIP/103-t1&PJSIP/101-t1"
    assert entries["did/908505550003"] == "play:/srv/pbx/audio/1/p7"
    assert "did/908505550005" not in entries and "did/908505550099" not in entries


def suspended_snapshot():
    data = rows()
    data.tenants[0] = (*data.tenants[0], None, None, None, True)  # no fraud limits, suspended
    return build(data)


def test_a_suspended_tenants_calls_hear_why_except_emergency_calls():
    snap = suspended_snapshot()
    assert snap.tenants[1].suspended and not snap.tenants[2].suspended
    for decision in (decisions.from_trunk(snap, "trunk-a", "+908505550000", MONDAY_NOON),
                     decisions.from_extension_call(snap, "101-t1", "102", MONDAY_NOON),
                     decisions.from_extension_call(snap, "101-t1", "02125550000", MONDAY_NOON)):
        assert (decision.action, decision.tenant_id, decision.notice) == ("suspended", 1, decisions.SUSPENDED_SOUND)
    assert decisions.from_extension_call(snap, "101-t1", "112", MONDAY_NOON).action == "outbound"
    assert decisions.from_trunk(snap, "trunk-a", "+908505550200", MONDAY_NOON).action == "dial"  # tenant 2 unaffected


def test_a_suspended_tenants_numbers_say_so_in_the_fallback_too():
    entries = fallback.entries(suspended_snapshot(), MONDAY_NOON)
    tenant_1 = {key: value for key, value in entries.items() if key.startswith("did/9085055500")}
    assert tenant_1 and set(tenant_1.values()) == {f"play:{decisions.SUSPENDED_SOUND}"}
    assert entries["did/908505550200"].startswith("dial:")
