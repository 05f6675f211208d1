"""Pure parts of recognising carriers behind Kamailio: which addresses its carrier table holds,
how its dump is read, and the header identify a cluster node publishes for each trunk."""
from __future__ import annotations

import json
from types import SimpleNamespace

from pbx.asterisk.trunks import astdb_entries
from pbx.cluster.carriers import carrier_addresses, parse_htable


def _trunk(id_, sip_id, match):
    return SimpleNamespace(id=id_, sip_id=sip_id, match=match, host="192.0.2.1", port=5060)


def test_each_address_of_a_trunk_names_it_the_oldest_trunk_wins_and_wide_networks_are_left_out():
    trunks = [_trunk(2, "trunk-2", ["192.0.2.9/32", "198.51.100.0/30"]), _trunk(1, "trunk-1", ["192.0.2.9/32"]),
              _trunk(3, "trunk-3", ["10.0.0.0/8", "2001:db8::1/128"])]
    assert carrier_addresses(trunks) == {
        "192.0.2.9": "trunk-1", "198.51.100.0": "trunk-2", "198.51.100.1": "trunk-2", "198.51.100.2": "trunk-2",
        "198.51.100.3": "trunk-2", "2001:db8::1": "trunk-3"}


def test_the_carrier_table_dump_is_read_as_address_to_trunk():
    dump = ("{\n\tentry: 0\n\tslot: {\n\t\t{\n\t\t\tname: 10.200.7.2\n\t\t\tvalue: trunk-4\n\t\t\ttype: str\n"
            "\t\t}\n\t}\n}\n{\n\tentry: 3\n\tslot: {\n\t\t{\n\t\t\tname: 2001:db8::1\n\t\t\tvalue: trunk-5\n"
            "\t\t\ttype: str\n\t\t}\n\t}\n}\n")
    assert parse_htable(dump) == {"10.200.7.2": "trunk-4", "2001:db8::1": "trunk-5"}
    assert parse_htable("") == {}


def test_only_a_cluster_node_identifies_trunks_by_kamailios_header_and_reaches_them_through_it():
    trunk = _trunk(4, "trunk-4", ["192.0.2.9/32"])
    alone = astdb_entries([trunk])
    assert not any(key.startswith("identify/") for key in alone)
    assert not any("outbound_proxy" in json.loads(value) for value in alone.values())
    behind = astdb_entries([trunk], cluster_proxy="10.200.7.1:40760")
    assert json.loads(behind["identify/trunk-4-carrier"]) == {
        "endpoint": "trunk-4", "match_header": "X-Pbx-Carrier: trunk-4"}
    for kind in ("endpoint", "aor"):
        assert json.loads(behind[f"{kind}/trunk-4"])["outbound_proxy"] == "sip:10.200.7.1:40760;lr"
