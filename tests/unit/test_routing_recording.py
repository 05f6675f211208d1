"""Recording policy in routing decisions: which calls are recorded, who hears the notice."""
from datetime import datetime, timezone

import pytest

from pbx.agi import channelvars
from pbx.agi.handlers import variables
from pbx.domain.plans import PLANS
from pbx.domain.recording import NOTICE_SOUND, parse_stem
from pbx.routing import decisions
from pbx.routing.decision import Decision
from pbx.routing.internal import Party, route_internal
from pbx.routing.outbound import Caller, route_outbound
from pbx.routing.snapshot import build
from tests.unit.routing_rows import rows

MONDAY_NOON = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # 12:00 in Istanbul: open
KOBI, GIRISIMCI = PLANS["kobi"], PLANS["girisimci"]


def snap(**kw):
    return build(rows(**kw))


@pytest.mark.parametrize("caller_rec, callee_rec, plan, recorded", [
    (False, False, KOBI, False), (True, False, KOBI, True), (False, True, KOBI, True), (True, True, KOBI, True),
    (True, True, GIRISIMCI, False), (True, True, None, False)])
def test_internal_call_is_recorded_when_either_extension_asks_and_the_plan_records(
        caller_rec, callee_rec, plan, recorded):
    caller, callee = Party(1, "101", "a", 1, record=caller_rec), Party(1, "102", "b", 2, record=callee_rec)
    assert route_internal(caller, callee, plan).record is recorded


def test_unanswerable_internal_calls_are_not_recorded():
    caller = Party(1, "101", "a", 1, record=True)
    assert not route_internal(caller, None, KOBI).record
    assert not route_internal(caller, caller, KOBI).record


@pytest.mark.parametrize("record_calls, plan, recorded", [(True, KOBI, True), (False, KOBI, False),
                                                         (True, GIRISIMCI, False)])
def test_outbound_follows_the_calling_extension(record_calls, plan, recorded):
    caller = Caller(1, False, "+908505550000", plan, record_calls)
    assert route_outbound("02125550011", caller, "trunk").record is recorded


def test_refused_outbound_is_not_recorded():
    caller = Caller(1, False, "+908505550000", KOBI, True)
    assert route_outbound("00442079460958", caller, "trunk").action == "refused"
    assert not route_outbound("00442079460958", caller, "trunk").record


def test_internal_calls_through_the_snapshot():
    assert decisions.from_extension_call(snap(records=("101",)), "101-t1", "102", MONDAY_NOON).record
    assert decisions.from_extension_call(snap(records=("102",)), "101-t1", "102", MONDAY_NOON).record
    assert not decisions.from_extension_call(snap(records=("103",)), "101-t1", "102", MONDAY_NOON).record
    assert not decisions.from_extension_call(snap(records=("101",), plan="girisimci"), "101-t1", "102",
                                         MONDAY_NOON).record


def test_outbound_through_the_snapshot():
    decision = decisions.from_extension_call(snap(records=("101",)), "101-t1", "02125550011", MONDAY_NOON)
    assert (decision.action, decision.record) == ("outbound", True)
    assert not decisions.from_extension_call(snap(records=("102",)), "101-t1", "02125550011", MONDAY_NOON).record


def test_own_number_counts_the_caller_for_dials_only():
    dial = decisions.from_extension_call(snap(records=("103",)), "103-t1", "08505550000", MONDAY_NOON)  # -> 101
    assert (dial.action, dial.record) == ("dial", True)
    announce = decisions.from_extension_call(snap(records=("103",)), "103-t1", "08505550004", MONDAY_NOON)
    assert (announce.action, announce.record) == ("announce", False)


@pytest.mark.parametrize("number, records, recorded", [
    ("+908505550000", ("101",), True), ("+908505550000", ("102",), False),  # extension 101
    ("+908505550001", ("103",), True), ("+908505550001", ("101",), False),  # ring group 102, 103 (all)
    ("+908505550002", ("101",), True),  # hunt group 103, 101
    ("+908505550003", ("101", "102", "103"), False),  # IVR
    ("+908505550004", ("101", "102", "103"), False),  # announcement
    ("+908505550005", ("101", "102", "103"), False),  # voicemail
    ("+908505550006", ("101",), True),  # schedule, open: extension 101
])
def test_inbound_destinations(number, records, recorded):
    assert decisions.from_trunk(snap(records=records), "trunk-a", number, MONDAY_NOON).record is recorded


def test_ivr_choice_and_ring_group_fall_through_are_recorded_by_their_targets():
    s = snap(records=("101",))
    assert decisions.menu_key(s, "1", "4", "1", "1", MONDAY_NOON).record  # -> 101
    assert not decisions.menu_key(s, "1", "4", "1", "2", MONDAY_NOON).record  # -> group of 102, 103
    assert not decisions.after_unanswered(s, "1", "vm:2", MONDAY_NOON).record


@pytest.mark.parametrize("plan, notice, records, heard", [
    ("kobi", True, ("103",), True), ("kobi", False, ("103",), False), ("kobi", True, (), False),
    ("girisimci", True, ("103",), False)])
def test_inbound_notice(plan, notice, records, heard):
    decision = decisions.from_trunk(snap(plan=plan, notice=notice, records=records), "trunk-a", "+908505550004",
                                MONDAY_NOON)
    assert decision.recording_notice == (NOTICE_SOUND if heard else "")


def test_notice_only_on_the_first_decision_of_a_call_that_goes_somewhere():
    s = snap(records=("103",))
    assert decisions.from_trunk(s, "trunk-a", "+908505550003", MONDAY_NOON).recording_notice == NOTICE_SOUND  # IVR
    assert decisions.from_trunk(s, "trunk-a", "+908505550099", MONDAY_NOON).recording_notice == ""  # failure
    assert decisions.from_trunk(s, "trunk-a", "+908505559999", MONDAY_NOON).recording_notice == ""  # unknown
    assert decisions.menu_key(s, "1", "4", "1", "1", MONDAY_NOON).recording_notice == ""
    assert decisions.after_unanswered(s, "1", "rg:5", MONDAY_NOON).recording_notice == ""
    assert decisions.from_extension_call(s, "101-t1", "102", MONDAY_NOON).recording_notice == ""


def test_variables_carry_the_spool_stem_and_the_notice():
    decision = Decision("dial", dial="PJSIP/x", ring_seconds=30, tenant_id=3, record=True,
                        recording_notice=NOTICE_SOUND)
    pairs = dict(variables(decision, "0532 123 45 67", "+908505550000"))
    stem = parse_stem(pairs[channelvars.RECORD])
    assert (stem.tenant_id, stem.caller, stem.callee) == (3, "05321234567", "+908505550000")
    assert pairs[channelvars.RECORDING_NOTICE] == NOTICE_SOUND
    assert list(dict(variables(decision, "", "")))[-1] == channelvars.ACTION


def test_variables_without_recording():
    pairs = dict(variables(Decision("dial", dial="PJSIP/x", ring_seconds=30, tenant_id=3), "1", "2"))
    assert channelvars.RECORD not in pairs and channelvars.RECORDING_NOTICE not in pairs
