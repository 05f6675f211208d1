"""Pure parts of SIP bans and toll-fraud limits."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pbx.routing import decisions
from pbx.routing.decision import Decision
from pbx.routing.snapshot import build
from pbx.security import fraud
from pbx.security.failures import FailureWindow, allowed, source_address
from pbx.security.nftables import ruleset
from tests.unit.routing_rows import rows

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("remote, address", [
    ("IPV4/UDP/127.0.0.9/5060", "127.0.0.9"), ("IPV6/TLS/[::1]/5061", "::1"), ("IPV4/UDP/x/5060", None),
    ("IPV4/UDP/127.0.0.9", None), ("", None), ("IPV4/UDP/127.0.0.9; drop/1", None), ("ETH/UDP/1.2.3.4/1", None)])
def test_source_address_of_a_security_event(remote, address):
    assert source_address(remote) == address


def test_ten_failures_within_the_window_and_not_spread_out():
    window = FailureWindow(10, 60.0)
    assert [window.failed("10.0.0.1", t) for t in range(9)] == [None] * 9
    assert window.failed("10.0.0.2", 9) is None  # another address counts apart
    assert window.failed("10.0.0.1", 9) == 10
    assert window.failed("10.0.0.1", 10) is None  # banned: counting starts again
    slow = FailureWindow(10, 60.0)
    assert all(slow.failed("10.0.0.3", t * 7.0) is None for t in range(30))  # one every 7 s: never 10 in 60 s


def test_allowlist_networks():
    assert allowed("10.1.2.3", ["10.0.0.0/8"]) and not allowed("11.1.2.3", ["10.0.0.0/8"])
    assert allowed("::1", ["::1/128"]) and not allowed("127.0.0.1", ["::1/128"])


def test_nft_rules_match_only_the_sip_ports_and_banned_sources():
    script = ruleset("pbx_sip_25860", [25860], [25861])
    drops = [line.strip() for line in script.splitlines() if line.strip().endswith("drop")]
    assert drops == ["ip saddr @banned4 udp dport { 25860 } drop", "ip saddr @banned4 tcp dport { 25861 } drop",
                     "ip6 saddr @banned6 udp dport { 25860 } drop", "ip6 saddr @banned6 tcp dport { 25861 } drop"]
    assert "policy accept" in script and script.startswith("table inet pbx_sip_25860\ndelete table inet pbx_sip_25860")
    assert "tcp" not in ruleset("t", [5060], [])


def test_limits_are_the_plans_unless_the_operator_set_them():
    assert fraud.limits_for("kobi") == fraud.PLAN_LIMITS["kobi"]
    assert fraud.limits_for("kobi", 2).concurrent_calls == 2
    assert fraud.limits_for("kobi", None, 0).international_minutes == 0
    assert fraud.limits_for("kobi", None, 0).concurrent_calls == fraud.PLAN_LIMITS["kobi"].concurrent_calls


def test_connecting_decisions_carry_the_cap_to_the_dialplan():
    snap = build(rows())
    assert decisions.from_extension_call(snap, "101-t1", "102", NOW).max_calls == 20  # kobi's
    assert decisions.from_extension_call(snap, "101-t1", "999", NOW).max_calls == 0  # unknown: nothing to cap
    assert decisions.from_trunk(snap, "trunk-a", "+908505550000", NOW).max_calls == 20
    assert decisions.from_extension_call(snap, "nobody", "102", NOW).max_calls == 0


def test_outbound_limits():
    limits = fraud.FraudLimits(concurrent_calls=2, international_minutes=10, call_attempts_per_minute=3)
    out = Decision("outbound", tenant_id=1)
    assert fraud.outbound_limit(out, limits, 3, 0.0, "00442079460958") is None
    assert fraud.outbound_limit(out, limits, 4, 0.0, "02125550011") == "call_attempts_per_minute"
    assert fraud.outbound_limit(out, limits, 1, 600.0, "00442079460958") == "international_minutes"
    assert fraud.outbound_limit(out, limits, 1, 600.0, "02125550011") is None  # national: no budget
    assert fraud.outbound_limit(out, limits, 1, 600.0, "00902125550011") is None  # +90 dialled as 00 90
    assert fraud.outbound_limit(Decision("dial", tenant_id=1), limits, 99, 1e9, "101") is None
    refused = fraud.refused(out)
    assert (refused.action, refused.notice, refused.tenant_id) == ("refused", fraud.REFUSED_SOUND, 1)


def test_attempts_are_counted_per_extension_over_a_minute():
    window = fraud.AttemptWindow()
    assert [window.attempt("101-t1", t) for t in (0, 10, 20)] == [1, 2, 3]
    assert window.attempt("102-t1", 20) == 1
    assert window.attempt("101-t1", 61) == 3  # 0 is over a minute old; 10, 20 and 61 are not
    assert window.attempt("101-t1", 90) == 2  # 61 and 90
