from pbx.routing.internal import DEFAULT_RING_SECONDS, Party, route_internal

ALICE = Party(1, "101", "101-aaaa")
BOB = Party(1, "102", "102-bbbb")
MALLORY = Party(2, "102", "102-mmmm")


def test_same_tenant_is_dialled():
    decision = route_internal(ALICE, BOB)
    assert (decision.action, decision.dial, decision.ring_seconds) == ("dial", "PJSIP/102-bbbb", DEFAULT_RING_SECONDS)
    assert decision.tenant_id == 1


def test_another_tenants_extension_is_unknown():
    assert route_internal(ALICE, MALLORY).action == "unknown"


def test_unknown_number_and_self_call():
    assert route_internal(ALICE, None).action == "unknown"
    assert route_internal(ALICE, ALICE).action == "unknown"


def test_unknown_caller_fails_safely():
    assert route_internal(None, BOB).action == "failure"
