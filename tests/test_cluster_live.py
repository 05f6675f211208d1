"""Kamailio in front of three real Asterisk nodes on one PostgreSQL, each node in its own
network namespace; real pjsua2 phones register and call through Kamailio."""
from __future__ import annotations

import pytest

from tests.support.calls import wait_for
from tests.support.cluster import registered_on, start_cluster, talk, why_no_cluster

pytestmark = pytest.mark.skipif(bool(why_no_cluster()), reason=why_no_cluster() or "runs")


@pytest.fixture(scope="module")
def cluster():
    cluster, operator = start_cluster(3)
    try:
        yield cluster, operator
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def office(cluster, phones):
    """A tenant with six extensions, each with a phone registered through Kamailio."""
    cl, operator = cluster
    tenant = operator.ok("POST", "/tenants", {"name": "Küme Ltd", "plan": "kobi"})
    lines = {}
    host, port = cl.proxy.rsplit(":", 1)
    for number in ("201", "202", "203", "204", "205", "206"):
        ext = operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": number, "name": f"Ext {number}"})
        phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], domain=host, port=int(port),
                                 bind_address=host)
        lines[number] = (ext["sip"]["username"], phone)
    for _sip_id, phone in lines.values():
        assert phone.wait_registered(timeout=20) == 200
    return tenant, lines


def test_calls_between_phones_on_different_nodes_carry_audio_both_ways(cluster, office, tmp_path):
    cl, _ = cluster
    _, lines = office
    where = wait_for(lambda: (r := registered_on(cl)) and all(sip in r for sip, _ in lines.values()) and r)
    nodes = {number: where[sip] for number, (sip, _) in lines.items()}
    assert len(set(nodes.values())) >= 2, nodes  # six SIP ids hash onto more than one node
    caller = next(n for n in nodes)
    callee = next(n for n in nodes if nodes[n] != nodes[caller])
    heard_by_callee, heard_by_caller = talk(lines[caller][1], lines[callee][1], callee, tmp_path)
    assert heard_by_callee == pytest.approx(800, abs=30)
    assert heard_by_caller == pytest.approx(1200, abs=30)
