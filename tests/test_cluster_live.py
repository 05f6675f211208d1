"""Kamailio in front of three real Asterisk nodes on one PostgreSQL, each node in its own
network namespace; real pjsua2 phones register and call through Kamailio."""
from __future__ import annotations

import shutil
import time
from dataclasses import replace

import pytest

from pbx.cluster.carriers import parse_htable
from tests.support.calls import wait_for
from tests.support.cluster import registered_on, start_cluster, talk, why_no_cluster

pytestmark = pytest.mark.skipif(bool(why_no_cluster()), reason=why_no_cluster() or "runs")


def _placement(cl, lines) -> dict[str, int]:
    where = wait_for(lambda: (r := registered_on(cl)) and all(sip in r for sip, _ in lines.values()) and r)
    return {number: where[sip] for number, (sip, _) in lines.items()}


@pytest.fixture(scope="module")
def cluster():
    cluster, operator = start_cluster(3)
    try:
        yield cluster, operator
    finally:
        cluster.close()
        shutil.rmtree(cluster.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def office(cluster, phones):
    """A tenant with six extensions, each with a phone registered through Kamailio."""
    cl, operator = cluster
    tenant = operator.ok("POST", "/tenants", {"name": "Küme Ltd", "plan": "kobi"})
    lines = {}
    host, port = cl.proxy.rsplit(":", 1)
    # Every node live in Kamailio's dispatcher first: the phones are hashed over the nodes it
    # holds active, and a node the test before revived (or a probe missed on a loaded machine)
    # would put them all on fewer nodes than the cross-node tests need.
    assert wait_for(lambda: set(cl.states().values()) == {"active"}, timeout=60)
    for number in ("201", "202", "203", "204", "205", "206"):
        ext = operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": number, "name": f"Ext {number}"})
        phone = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], domain=host, port=int(port),
                                 bind_address=host)
        lines[number] = (ext["sip"]["username"], phone)
    for _sip_id, phone in lines.values():
        assert phone.wait_registered(timeout=20) == 200
    yield tenant, lines
    for _sip_id, phone in lines.values():  # pjsua holds 8 accounts at most, for the whole session
        phone.remove()


def test_a_recording_on_a_node_killed_after_the_call_is_archived_when_it_returns(cluster, phones, tmp_path):
    """First in this module: its two phones come and go before the office's six register
    (pjsua allows 8 accounts at once, and the session's carrier holds one)."""
    cl, operator = cluster
    tenant = operator.ok("POST", "/tenants", {"name": "Kayıt Ltd", "plan": "kobi", "record_calls": True,
                                              "recording_notice": False})
    host, port = cl.proxy.rsplit(":", 1)
    made = {}
    for number in ("301", "302"):
        ext = operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": number, "name": f"Ext {number}"})
        made[number] = (ext["sip"]["username"], phones.add_phone(ext["sip"]["username"], ext["sip"]["password"],
                                                                 domain=host, port=int(port), bind_address=host))
    for _, phone in made.values():
        assert phone.wait_registered(timeout=20) == 200
    nodes = _placement(cl, made)
    caller, callee = "301", "302"
    victim = nodes[caller]  # the caller's INVITE goes to its own node, which records the call
    talk(made[caller][1], made[callee][1], callee, tmp_path, seconds=1.5)
    cl.kill(victim)  # before its control plane has archived the spool file (2 s quiet + sweep)
    spool = cl.nodes[victim].settings.recording_spool_dir
    assert list(spool.glob("*.wav")), "the recording is still in the killed node's spool"
    cl.revive(victim)
    listed = wait_for(lambda: operator.ok("GET", f"/tenants/{tenant['id']}/recordings")["items"], timeout=30)
    assert len(listed) == 1 and not list(spool.glob("*.wav"))
    for _, phone in made.values():
        phone.remove()


def test_carrier_calls_both_ways_pass_through_kamailio_and_a_spoofed_carrier_header_is_ignored(
        cluster, phones, tmp_path):
    """The carrier calls from its own address on the bridge (its trunk's match): Kamailio names
    the trunk for the node, which routes the number to extension 401, whose phone is registered
    through Kamailio. A stranger at another address sending the same header is no carrier.
    Then the extension calls out: the node reaches the carrier through Kamailio; and its phone
    sending the header is still itself. Before the office's six phones register (pjsua's 8 accounts)."""
    cl, operator = cluster
    host, port = cl.proxy.rsplit(":", 1)
    carrier_at, stranger_at = cl.fabric.add_host_address(2), cl.fabric.add_host_address(3)
    carrier_port = phones.sip_port(carrier_at)
    trunk = operator.ok("POST", "/trunks", {"name": "Taşıyıcı", "host": carrier_at, "default_outbound": True,
                                            "port": carrier_port, "match": [carrier_at]})
    tenant = operator.ok("POST", "/tenants", {"name": "Hat Ltd", "plan": "kobi"})
    ext = operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "401", "name": "Masa"})
    operator.ok("POST", f"/tenants/{tenant['id']}/numbers",
                {"number": "0850 555 04 01", "destination": {"type": "extension", "extension": "401"}})
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], domain=host, port=int(port),
                            bind_address=host)
    # The carrier's own domain: pjsua gives it the requests to its address (the node's calls out).
    carrier, stranger = (phones.add_phone(name, "unused", register=False, domain=address, port=int(port),
                                          bind_address=address)
                         for name, address in (("carrier", carrier_at), ("stranger", stranger_at)))
    number = f"sip:908505550401@{host}:{port}"
    try:
        assert desk.wait_registered(timeout=20) == 200
        known = wait_for(lambda: parse_htable(cl.kamailio.rpc("htable.dump", "carriers")), timeout=30)
        sip_id = known[carrier_at]  # the control plane loaded the trunk's address into Kamailio
        identify = f"{sip_id}-carrier"
        assert wait_for(lambda: all(identify in n.asterisk.cli("pjsip show identifies") for n in cl.nodes.values()),
                        timeout=30)
        spoofed = stranger.call(number, headers={"X-Pbx-Carrier": sip_id})
        spoofed.wait_disconnected(timeout=30)
        # Challenged as any unknown caller is, and nothing rang.
        assert spoofed.last_status_code == 401 and desk.incoming_count() == 0, spoofed.last_status_code
        heard_by_desk, heard_by_carrier = talk(carrier, desk, number, tmp_path)
        assert heard_by_desk == pytest.approx(800, abs=30)
        assert heard_by_carrier == pytest.approx(1200, abs=30)
        calls = wait_for(lambda: operator.ok("GET", f"/tenants/{tenant['id']}/calls")["items"], timeout=30)
        time.sleep(2)  # a second record, were there one, has arrived by now
        calls = operator.ok("GET", f"/tenants/{tenant['id']}/calls")["items"]
        assert len(calls) == 1 and calls[0]["disposition"] == "answered", calls
        # Outbound: the node reaches the carrier through Kamailio (the trunk's outbound proxy).
        heard_by_carrier, heard_by_desk = talk(desk, carrier, "02125550011", tmp_path)
        assert heard_by_carrier == pytest.approx(800, abs=30)
        assert heard_by_desk == pytest.approx(1200, abs=30)
        relayed = (cl.kamailio.config.directory / "kamailio.log").read_text()  # RELAY's line: method, R-URI, source
        assert any(f"INVITE sip:+902125550011@{carrier_at}:{carrier_port} from {n.settings.sip_host}:5060" in relayed
                   for n in cl.nodes.values()), relayed[-3000:]
        # A phone sending the header is still that phone: its call to its own number (which rings it)
        # is the extension's internal call, not a carrier's inbound one.
        def records():
            return operator.ok("GET", f"/tenants/{tenant['id']}/calls")["items"]

        assert wait_for(lambda: len(records()) == 2, timeout=30)  # the call out's record is in
        known = {c["id"] for c in records()}
        rings = carrier.incoming_count() + desk.incoming_count()
        as_phone = desk.call(number, headers={"X-Pbx-Carrier": sip_id})
        assert wait_for(lambda: carrier.incoming_count() + desk.incoming_count() > rings, timeout=20)
        as_phone.hangup()
        as_phone.wait_disconnected(timeout=20)
        made = wait_for(lambda: [c for c in records() if c["id"] not in known], timeout=30)
        assert [(c["direction"], c["caller"]) for c in made] == [("internal", "401")], made  # a carrier's: inbound
    finally:
        for phone in (desk, carrier, stranger):
            phone.remove()
        for address in (carrier_at, stranger_at):  # the bridge's addresses go; their transports too
            phones.release_address(address)
        operator.ok("DELETE", f"/trunks/{trunk['id']}", status=204)
    assert wait_for(lambda: carrier_at not in parse_htable(cl.kamailio.rpc("htable.dump", "carriers")), timeout=30)


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


def test_extension_status_comes_from_the_node_that_holds_the_contact(cluster, office):
    cl, operator = cluster
    tenant, lines = office
    nodes = _placement(cl, lines)
    elsewhere = next(n for n, node in nodes.items() if node != 1)  # asked through node 1's API
    ext = next(e for e in operator.ok("GET", f"/tenants/{tenant['id']}/extensions")["items"]
               if e["number"] == elsewhere)
    status = operator.ok("GET", f"/tenants/{tenant['id']}/extensions/{ext['id']}/status")
    assert status["registered"] is True and len(status["contacts"]) == 1


def test_a_new_extension_is_live_on_every_node_at_once(cluster, office, phones, tmp_path):
    """Written through node 1's API; phones of every node call it and are answered."""
    cl, operator = cluster
    tenant, lines = office
    ext = operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "299", "name": "Yeni"})
    host, port = cl.proxy.rsplit(":", 1)
    newcomer = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], domain=host, port=int(port),
                                bind_address=host)
    assert newcomer.wait_registered(timeout=20) == 200
    where = wait_for(lambda: (r := registered_on(cl)) and all(sip in r for sip, _ in lines.values()) and r)
    one_per_node = {}
    for number, (sip_id, _) in lines.items():
        one_per_node.setdefault(where[sip_id], number)
    assert len(one_per_node) >= 2
    for node, number in sorted(one_per_node.items()):  # the snapshot of each node's control plane
        heard, _ = talk(lines[number][1], newcomer, "299", tmp_path, seconds=1.5)
        assert heard == pytest.approx(800, abs=30), node
    newcomer.remove()  # the phone library holds 8 accounts at most


def test_membership_through_the_api(cluster, office):
    cl, operator = cluster
    tenant, _ = office
    nodes = operator.ok("GET", "/cluster/nodes")["items"]
    assert [n["state"] for n in nodes] == ["active"] * 3 and {n["uri"] for n in nodes} == {
        n.uri for n in cl.nodes.values()}
    token = operator.ok("POST", f"/tenants/{tenant['id']}/tokens")["token"]
    assert operator.as_token(token).get("/cluster/nodes").status_code == 403
    for hostile in ("sip:10.0.0.1:5060;lr", "sip:a b:1", "sip:x:1\nfoo", "10.0.0.1:5060", "sip:x:123456"):
        answer = operator.post("/cluster/nodes/drain", json={"uri": hostile})
        assert answer.status_code == 422, (hostile, answer.text)
    assert operator.post("/cluster/nodes/drain", json={"uri": "sip:10.9.9.9:5060"}).status_code == 404
    third = cl.nodes[3].uri
    assert operator.ok("POST", "/cluster/nodes/drain", {"uri": third}, status=200)["state"] == "drained"
    assert cl.states()[3] == "drained"
    assert operator.ok("POST", "/cluster/nodes/undrain", {"uri": third}, status=200)["uri"] == third
    assert wait_for(lambda: cl.states()[3] == "active", timeout=10)
    assert operator.post("/cluster/nodes", json={"uri": third}).status_code == 409
    assert operator.ok("GET", "/cluster/nodes")["items"] == nodes  # nothing changed in the end


def _restart_asterisk(cl, index: int, max_load: float) -> None:
    """The node's Asterisk alone, started again with another overload threshold."""
    node = cl.nodes[index]
    node.asterisk.stop()
    node.asterisk.settings = replace(node.asterisk.settings, asterisk_max_load=max_load)
    node.asterisk.launch()
    node.asterisk.wait_for_ami(60)
    node.asterisk.wait_fully_booted(60)
    time.sleep(3 * cl.ping_interval)  # Kamailio's state is of the new Asterisk's probes, not the old one's
    assert wait_for(lambda: cl.states()[index] == "active", timeout=60)


def test_a_node_that_answers_503_hands_the_call_to_another_node_with_one_call_record(cluster, office, tmp_path):
    """Asterisk's own overload state (maxload far below any load average of a machine running
    three Asterisks): the caller's own node refuses the call with 503 after its digest check,
    before any ringing, and Kamailio's failure_route hands the call to another node."""
    cl, operator = cluster
    tenant, lines = office
    nodes = _placement(cl, lines)
    victim = next(n for n in sorted(set(nodes.values())) if n != 1)  # node 1 serves the API
    caller = next(number for number, node in nodes.items() if node == victim)
    callee = next(number for number, node in nodes.items() if node != victim)
    log = cl.nodes[victim].settings.asterisk_instance_dir / "log" / "messages.log"
    _restart_asterisk(cl, victim, max_load=0.0001)
    try:
        refused_before = log.read_text().count("Maximum loadavg limit")
        known = {c["id"] for c in operator.ok("GET", f"/tenants/{tenant['id']}/calls")["items"]}

        def new_calls():
            return [c for c in operator.ok("GET", f"/tenants/{tenant['id']}/calls")["items"] if c["id"] not in known]

        heard, _ = talk(lines[caller][1], lines[callee][1], callee, tmp_path, seconds=1.5)
        assert heard == pytest.approx(800, abs=30)
        assert log.read_text().count("Maximum loadavg limit") > refused_before  # it did answer 503
        assert wait_for(new_calls, timeout=30)
        time.sleep(3)  # what the refusing node might have recorded has arrived by now
        recorded = new_calls()
        assert len(recorded) == 1 and recorded[0]["disposition"] == "answered", recorded
    finally:
        _restart_asterisk(cl, victim, max_load=0.0)


def test_a_killed_node_loses_no_new_calls_and_its_phones_come_back(cluster, office, tmp_path):
    """kill -9 of a node's Asterisk and control plane: calls placed at once (within 2 probe
    intervals) are answered by the others; its phones re-register onto live nodes and are
    reachable. Calls that were in progress on it are lost (README: Cluster)."""
    cl, _ = cluster
    _, lines = office
    nodes = _placement(cl, lines)
    victim = next(n for n in sorted(set(nodes.values())) if n != 1)
    orphans = [number for number, node in nodes.items() if node == victim]
    survivors = [number for number, node in nodes.items() if node != victim]
    cl.kill(victim)
    heard, _ = talk(lines[orphans[0]][1], lines[survivors[0]][1], survivors[0], tmp_path, seconds=1.5)
    assert heard == pytest.approx(800, abs=30)
    assert wait_for(lambda: cl.states()[victim] == "inactive", timeout=10)
    for number in orphans:  # what each phone's re-registration timer does (forced here: no waiting out 60 s)
        lines[number][1].reregister()
    moved = wait_for(lambda: all(n != victim for n in _placement(cl, lines).values()), timeout=20)
    assert moved, _placement(cl, lines)
    heard, _ = talk(lines[survivors[0]][1], lines[orphans[0]][1], orphans[0], tmp_path, seconds=1.5)
    assert heard == pytest.approx(800, abs=30)
    cl.revive(victim)


def test_a_drained_node_takes_no_new_calls_finishes_its_calls_and_is_removed(cluster, office, tmp_path):
    """Last in this module: the node it drains is gone afterwards."""
    import threading

    cl, _ = cluster
    _, lines = office
    for _sip_id, phone in lines.values():  # back where the hash over all live nodes puts them (after the kill)
        phone.reregister()
    assert wait_for(lambda: any(node != 1 for node in _placement(cl, lines).values()), timeout=20)
    nodes = _placement(cl, lines)
    caller = next(n for n, node in nodes.items() if node != 1)
    callee = next(n for n, node in nodes.items() if node != nodes[caller])
    call = lines[caller][1].call(callee)
    incoming = lines[callee][1].wait_incoming(timeout=20)
    incoming.answer()
    call.wait_confirmed(timeout=20)
    # The node that took the INVITE (the dispatcher's pick among the live nodes, which after the
    # kill test need not be where the caller registered): the one drained with a call in progress.
    counts = {n: node.asterisk.channel_count() for n, node in cl.nodes.items()}
    target = nodes[caller] if counts.get(nodes[caller]) else max(counts, key=counts.get)
    in_progress = counts[target]
    assert in_progress >= 1
    draining = threading.Thread(target=cl.drain, args=(target,))
    draining.start()
    assert wait_for(lambda: cl.states().get(target) == "drained", timeout=10)
    others = [n for n in lines if n not in (caller, callee)]
    for number in others:  # phones of the drained node go elsewhere at their next REGISTER
        lines[number][1].reregister()
    assert wait_for(lambda: all(nodes_now[n] != target for n in others)
                    if (nodes_now := _placement(cl, lines)) else False, timeout=20)
    heard, _ = talk(lines[others[0]][1], lines[others[1]][1], others[1], tmp_path, seconds=1.5)
    assert heard == pytest.approx(800, abs=30)  # a new call, answered elsewhere
    assert cl.nodes[target].asterisk.channel_count() == in_progress and draining.is_alive()
    call.hangup()  # the call in progress ends normally
    incoming.wait_disconnected(timeout=20)
    draining.join(60)
    assert not draining.is_alive() and target not in cl.nodes and target not in cl.states()
