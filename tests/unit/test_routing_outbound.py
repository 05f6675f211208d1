import pytest

from pbx.routing.outbound import REFUSED_SOUND, Caller, public_number, route_outbound

DOMESTIC_ONLY = Caller(1, international_calls=False, caller_id="+908505550000")
WORLDWIDE = Caller(1, international_calls=True, caller_id="+908505550000")


@pytest.mark.parametrize("dialled, target", [
    ("02125550011", "+902125550011"), ("05321234567", "+905321234567"), ("00442079460958", "+442079460958"),
    ("00902125550011", "+902125550011"), ("112", "112"),
    ("0212555001", None), ("021255500111", None), ("00", None), ("0012", None), ("000442079460958", None)])
def test_public_numbers(dialled, target):
    assert public_number(dialled) == target


def test_national_leaves_with_the_tenants_caller_id():
    decision = route_outbound("02125550011", DOMESTIC_ONLY, "trunk-a")
    assert (decision.action, decision.dial, decision.caller_id) == (
        "outbound", "PJSIP/+902125550011@trunk-a", "+908505550000")


def test_international_needs_permission():
    refused = route_outbound("00442079460958", DOMESTIC_ONLY, "trunk-a")
    assert (refused.action, refused.notice) == ("refused", REFUSED_SOUND)
    assert route_outbound("00442079460958", WORLDWIDE, "trunk-a").action == "outbound"
    assert route_outbound("00902125550011", DOMESTIC_ONLY, "trunk-a").action == "outbound"  # +90 is national


def test_emergency_always_leaves():
    no_number = Caller(1, international_calls=False, caller_id=None)
    assert route_outbound("112", no_number, "trunk-a").dial == "PJSIP/112@trunk-a"


def test_without_a_trunk_or_a_number_the_call_fails_cleanly():
    assert route_outbound("02125550011", DOMESTIC_ONLY, None).action == "failure"
    assert route_outbound("02125550011", Caller(1, False, None), "trunk-a").action == "failure"
    assert route_outbound("0abc", DOMESTIC_ONLY, "trunk-a").action == "unknown"
