"""Legs of one call -> the call record, for every direction and disposition."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pbx.calls.fold import fold
from pbx.calls.legs import Leg, Quality

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def leg(sequence=0, start=0, answer=None, end=10, disposition="NO ANSWER", **tags) -> Leg:
    base = dict(tenant_id=3, route="route", action="dial", dialled="102", caller="101")
    return Leg("100.1", sequence, "100.1", T0 + timedelta(seconds=start),
               None if answer is None else T0 + timedelta(seconds=answer), T0 + timedelta(seconds=end),
               disposition, **(base | tags))


def test_an_answered_internal_call_with_its_hangup_handler_leg():
    dial = leg(0, 0, 2, 30, "ANSWERED")
    after = leg(2, 30, 30, 30.1, "ANSWERED", callee="102", quality=Quality(1.5, 0.0, 0.9))
    call = fold([after, dial])  # any order
    assert (call.direction, call.disposition, call.caller, call.callee, call.number, call.extension) == \
        ("internal", "answered", "101", "102", None, "101")
    assert call.answered_at == T0 + timedelta(seconds=2) and call.ended_at == T0 + timedelta(seconds=30.1)
    assert (call.duration_s, call.billsec, call.quality.jitter_ms, call.tenant_id) == (30, 28, 1.5, 3)


@pytest.mark.parametrize("dispositions, expected", [
    (["NO ANSWER", "NO ANSWER"], "no_answer"),
    (["BUSY", "BUSY"], "busy"),
    (["FAILED"], "failed"),
    (["CONGESTION", "NO ANSWER"], "failed"),
    (["NO ANSWER", "ANSWERED"], "answered"),  # a hunt: the second phone answered
    (["BUSY", "ANSWERED"], "answered"),
])
def test_disposition_from_the_channels(dispositions, expected):
    legs = [leg(i, i * 10, i * 10 + 1 if d == "ANSWERED" else None, i * 10 + 9, d) for i, d in enumerate(dispositions)]
    call = fold(legs)
    assert call.disposition == expected
    assert (call.answered_at is not None) == (expected == "answered")
    assert call.billsec == (8 if expected == "answered" else 0)


def test_a_refused_call_is_outbound_and_refused():
    call = fold([leg(0, 0, None, 3, "NO ANSWER", action="refused", dialled="00442079460958", outcome="refused")])
    assert (call.direction, call.disposition, call.number, call.callee) == \
        ("outbound", "refused", "+442079460958", "+442079460958")


def test_an_answered_outbound_call():
    call = fold([leg(0, 0, 5, 20, "ANSWERED", action="outbound", dialled="02125550011", callee="902125550011")])
    assert (call.direction, call.disposition, call.number, call.callee, call.extension) == \
        ("outbound", "answered", "+902125550011", "+902125550011", "101")


def test_the_dialplans_failure_beats_the_apologys_answer():
    assert fold([leg(0, 0, 0.5, 4, "ANSWERED", outcome="failed")]).disposition == "failed"


def test_inbound_numbers_are_e164_and_the_callee_is_who_answered():
    legs = [leg(0, 0, 3, 40, "ANSWERED", route="inbound", dialled="08505550331", caller="05321234567"),
            leg(1, 40, 40, 40, "ANSWERED", route="inbound", dialled="08505550331", callee="104")]
    call = fold(legs)
    assert (call.direction, call.number, call.caller, call.callee, call.extension) == \
        ("inbound", "+908505550331", "+905321234567", "104", "104")


def test_an_unanswered_inbound_call_names_the_number_as_callee():
    call = fold([leg(0, 0, None, 20, "NO ANSWER", route="inbound", dialled="+908505550331", caller="12")])
    assert (call.disposition, call.callee, call.extension, call.caller) == \
        ("no_answer", "+908505550331", None, "12")  # a caller ID that is no phone number stays as sent


def test_untagged_calls_have_no_tenant_and_the_first_tag_wins():
    assert fold([leg(0, tenant_id=None, route=None, action=None)]).tenant_id is None
    assert fold([leg(0, tenant_id=None), leg(1, 11, None, 12, tenant_id=5)]).tenant_id == 5


def test_the_recording_file_id_is_carried():
    assert fold([leg(0), replace(leg(1, 10, None, 11), recording="abc123")]).recording_file_id == "abc123"
