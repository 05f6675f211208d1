"""Click-to-call's pure parts: what `to` may be, which decisions refuse, and its Dial events."""
from __future__ import annotations

import pytest

from pbx.domain.errors import Conflict, FeatureNotInPlan, Invalid, PlanLimit
from pbx.eventing.calls import dial_event
from pbx.calls.legs import _ASTERISK_ID
from pbx.services.click_to_call import dialled_form, new_call_id, refusal


@pytest.mark.parametrize("to, dialled", [
    ("05321234567", "05321234567"), ("0532 123 45 67", "05321234567"), ("+905321234567", "05321234567"),
    ("+44 20 7946 0958", "00442079460958"), ("(0212) 555-00.11", "02125550011"), ("102", "102"), ("112", "112"),
])
def test_to_is_brought_to_the_dialled_form(to, dialled):
    assert dialled_form(to) == dialled


@pytest.mark.parametrize("to", ["0212\r\nAction: Command", "0212;x", "0212,1", "02|12", "0212\x00", "*99#",
                                "abc", "", "1", "0" * 21, "٠٥٣٢١٢٣٤٥٦٧", "0212\u202e1", "++90", 5321234567])
def test_hostile_or_odd_to_is_refused(to):
    with pytest.raises(Invalid):
        dialled_form(to)


def test_call_ids_look_like_asterisks_own_and_differ():
    ids = {new_call_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(_ASTERISK_ID.fullmatch(i) and len(i) <= 32 for i in ids)


def test_refusals_follow_the_contract():
    assert isinstance(refusal("unknown", None), Invalid)
    assert isinstance(refusal("refused", None), FeatureNotInPlan)
    assert isinstance(refusal("failure", None), Conflict)
    assert isinstance(refusal("outbound", "call_attempts_per_minute"), PlanLimit)
    assert refusal("outbound", None) is None and refusal("dial", None) is None


def _originated(**fields):
    """A Dial event of a channel Asterisk originated: no calling channel, only Dest* fields."""
    base = {"Event": "DialBegin", "DestChannel": "PJSIP/101-k3f9x2ab-0000002a", "DestUniqueid": "c0ffee" * 5 + "00",
            "DestLinkedid": "c0ffee" * 5 + "00",
            "DestChanVariable": ["PBX_TENANT=7", "PBX_ROUTE=c2c", "PBX_DIALLED=02125550011"]}
    return base | fields


def test_click_to_call_dial_events():
    call_id = "c0ffee" * 5 + "00"
    ringing = dial_event(_originated())
    assert (ringing.type, ringing.tenant_id, ringing.dedupe_key) == ("call.ringing", 7, f"call.ringing:{call_id}")
    assert ringing.data == {"call_id": call_id, "direction": "outbound", "caller": "101", "callee": "02125550011",
                            "number": None, "extension": "101", "click_to_call": True}
    answered = dial_event(_originated(Event="DialEnd", DialStatus="ANSWER"))
    assert (answered.type, answered.dedupe_key) == ("call.answered", f"call.answered:{call_id}")
    internal = dial_event(_originated(DestChanVariable=["PBX_TENANT=7", "PBX_ROUTE=c2c", "PBX_DIALLED=102"]))
    assert internal.data["direction"] == "internal"
    assert dial_event(_originated(Event="DialEnd", DialStatus="NOANSWER")) is None
    assert dial_event(_originated(DestChanVariable=["PBX_TENANT=7", "PBX_ROUTE=route"])) is None  # not ours
    assert dial_event(_originated(DestChanVariable="PBX_TENANT=x")) is None
