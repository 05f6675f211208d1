"""Which failures Kamailio's failure_route retries on another node, with the product's own
kamailio.cfg: two SIPp stand-in nodes on loopback, one answering each case and one that
answers 200, and a SIPp caller. README: Cluster, "Failover". The same rule against real
Asterisk nodes: tests/test_cluster_live.py (a node refusing with 503 in its overload state)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from pbx.cluster.kamailio import Kamailio, KamailioConfig

OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
HOST = "127.0.0.1"
PROXY, NODE_A, NODE_B, CALLER = (40090 + OFFSET + i for i in range(4))

pytestmark = pytest.mark.skipif(shutil.which("kamailio") is None or shutil.which("sipp") is None,
                                reason="Kamailio and SIPp (Debian kamailio, sip-tester: scripts/setup --test)")

HEADERS = """      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]n[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:node@[local_ip]:[local_port]>
"""


def _reply(code: str, reason: str, sdp: bool = False) -> str:
    body = ("Content-Type: application/sdp\n      Content-Length: [len]\n\n      v=0\n      o=- 1 1 IN IP4 [local_ip]\n"
            "      s=-\n      c=IN IP4 [local_ip]\n      t=0 0\n      m=audio [media_port] RTP/AVP 0\n"
            if sdp else "Content-Length: 0\n")
    return f"  <send>\n    <![CDATA[\n      SIP/2.0 {code} {reason}\n{HEADERS}      {body}\n    ]]>\n  </send>\n"


NODES = {  # what a stand-in node does with the INVITE it receives
    "answers": ('  <recv request="INVITE"/>\n' + _reply("200", "OK", sdp=True) + '  <recv request="ACK"/>\n'
                '  <recv request="BYE"/>\n' + _reply("200", "OK")),
    "503": '  <recv request="INVITE"/>\n' + _reply("100", "Trying") + _reply("503", "Service Unavailable")
           + '  <recv request="ACK"/>\n',
    "500": '  <recv request="INVITE"/>\n' + _reply("500", "Server Internal Error") + '  <recv request="ACK"/>\n',
    "rings-then-503": '  <recv request="INVITE"/>\n' + _reply("180", "Ringing")
                      + _reply("503", "Service Unavailable") + '  <recv request="ACK"/>\n',
    "486": '  <recv request="INVITE"/>\n' + _reply("486", "Busy Here") + '  <recv request="ACK"/>\n',
    "504": '  <recv request="INVITE"/>\n' + _reply("504", "Server Time-out") + '  <recv request="ACK"/>\n',
    "silent": '  <recv request="INVITE"/>\n  <pause milliseconds="8000"/>\n',
}

CALL = """  <send retrans="500">
    <![CDATA[
      INVITE sip:999@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
      From: <sip:[user]@[remote_ip]>;tag=[call_number]
      To: <sip:999@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[user]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="%s" rrs="true"/>
"""
ACK_NEGATIVE = """  <send>
    <![CDATA[
      ACK sip:999@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 ACK
      Content-Length: 0

    ]]>
  </send>
"""
IN_DIALOG = """  <send>
    <![CDATA[
      %s [next_url] SIP/2.0
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:[user]@[remote_ip]>;tag=[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: %s
      Content-Length: 0

    ]]>
  </send>
"""


def _scenario(path, body: str) -> str:
    path.write_text(f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{path.stem}">\n{body}</scenario>\n')
    return str(path)


def _caller_scenario(path, expect: str, header: str = "") -> str:
    body = (CALL % expect).replace("      Max-Forwards: 70\n", f"      Max-Forwards: 70\n{header}")
    if expect == "200":
        body += IN_DIALOG % ("ACK", "1 ACK") + IN_DIALOG % ("BYE", "2 BYE") + '  <recv response="200"/>\n'
    else:
        body += ACK_NEGATIVE
    return _scenario(path, body)


REGISTER = """  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
      From: <sip:[user]@[remote_ip]>;tag=[call_number]
      To: <sip:[user]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[user]@[local_ip]:[local_port]>
%s      Expires: 60
      Content-Length: 0

    ]]>
  </send>
  <recv response="401"/>
"""
GUESS = ('      Authorization: Digest username="[user]", realm="pbx", nonce="n", uri="sip:[remote_ip]", '
         'response="0123456789abcdef0123456789abcdef"\n')


def _challenge(stale: bool) -> str:
    header = 'WWW-Authenticate: Digest realm="pbx", nonce="x"' + (", stale=true" if stale else "")
    return '  <recv request="REGISTER"/>\n' + _reply("401", "Unauthorized").replace("Content-Length: 0", header + "\n      Content-Length: 0")


def _sipp(scenario: str, port: int, *extra: str) -> list[str]:
    """Each SIPp's media (up to 4 ports) and control ports, in this run's range too."""
    slot = port - PROXY
    media, control = 40070 + OFFSET + 4 * slot, 40086 + OFFSET + slot
    return ["sipp", "-sf", scenario, "-i", HOST, "-p", str(port), "-mp", str(media), "-cp", str(control),
            "-nostdin", "-trace_msg", "-message_file", f"{scenario}.log", "-recv_timeout", "15000", *extra]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    directory = tmp_path_factory.mktemp("kamailio")
    # No probe in the test's time (its interval is an hour): each case sets the nodes' states itself.
    kamailio = Kamailio(KamailioConfig(HOST, PROXY, directory, "secret", ping_interval=3600, ban_failures=3))
    kamailio.start()
    try:
        kamailio.config.write_members({f"sip:{HOST}:{NODE_A}": "A", f"sip:{HOST}:{NODE_B}": "A"})
        kamailio.reload_members()
        yield kamailio
    finally:
        kamailio.stop()


def _call(proxy, tmp_path, first: str, caller: str, expect: str, header: str = "") -> tuple[int, int, bool]:
    """Node A does `first`, node B answers; returns (INVITEs A got, INVITEs B got, the caller
    got `expect`). header: a line the caller's INVITE carries besides its own."""
    for uri in proxy.states():
        proxy.set_state(uri, "a")
    nodes = []
    for port, behaviour in ((NODE_A, first), (NODE_B, "answers")):
        scenario = _scenario(tmp_path / f"node-{port}-{behaviour}.xml", NODES[behaviour])
        nodes.append((scenario, subprocess.Popen(_sipp(scenario, port, "-m", "1"), stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)))
    try:
        scenario = _caller_scenario(tmp_path / f"caller-{expect}.xml", expect, header)
        done = subprocess.run([*_sipp(scenario, CALLER, "-m", "1", "-key", "user", caller), f"{HOST}:{PROXY}"],
                              capture_output=True, timeout=60)
    finally:
        for _, process in nodes:
            process.kill()
            process.wait()
    invites = [_invites(f"{scenario}.log") for scenario, _ in nodes]
    return invites[0], invites[1], done.returncode == 0


def _invites(log: str) -> int:
    try:
        text = open(log, errors="replace").read()
    except FileNotFoundError:
        return 0
    # Distinct INVITEs (their top Via branch): a node that stays silent sees retransmissions too.
    return len(set(re.findall(r"\nINVITE sip:.*?branch=([^;\s]+)", text, re.DOTALL)))


@pytest.fixture(scope="module")
def caller_on_a(proxy, tmp_path_factory):
    """A caller SIP id that the dispatcher's hash sends to node A first (found by trying)."""
    tmp = tmp_path_factory.mktemp("hash")
    for index in range(12):
        a, b, ok = _call(proxy, tmp, "answers", f"c{index}", "200")
        assert ok and a + b == 1
        if a:
            return f"c{index}"
    pytest.fail("no caller id hashed to node A")


@pytest.mark.parametrize("first", ["503", "500", "silent"])
def test_a_node_that_did_not_take_the_call_hands_it_to_the_next(proxy, caller_on_a, tmp_path, first):
    a, b, answered = _call(proxy, tmp_path, first, caller_on_a, "200")
    assert (a, b, answered) == (1, 1, True)
    assert proxy.states()[f"sip:{HOST}:{NODE_A}"] == "inactive"  # until its next probe answers


# A proxy passes a 503 on as 500 (RFC 3261 16.7: the 503 speaks of the proxy's next hop only).
@pytest.mark.parametrize("first, final", [("486", "486"), ("504", "504"), ("rings-then-503", "500")])
def test_a_routing_outcome_or_a_failure_after_ringing_is_not_retried(proxy, caller_on_a, tmp_path, first, final):
    a, b, got_it = _call(proxy, tmp_path, first, caller_on_a, final)
    assert (a, b, got_it) == (1, 0, True)


def test_a_carriers_call_is_named_for_the_node_and_keeps_its_name_when_handed_to_the_next(
        proxy, caller_on_a, tmp_path):
    """The caller's address is a carrier's (README: Cluster, "Carriers"): node A refuses with 503,
    node B gets the INVITE with Kamailio's X-Pbx-Carrier, and never the copy the caller forged."""
    proxy.rpc("htable.sets", "carriers", HOST, "trunk-x")
    try:
        a, b, answered = _call(proxy, tmp_path, "503", caller_on_a, "200", header="      X-Pbx-Carrier: forged\n")
    finally:
        proxy.rpc("htable.delete", "carriers", HOST)
    assert (a, b, answered) == (1, 1, True)
    for node in (NODE_A, NODE_B):
        received = open(tmp_path / f"node-{node}-{'503' if node == NODE_A else 'answers'}.xml.log").read()
        invite = received[received.index("\nINVITE sip:"):].split("\n\n", 1)[0]
        assert re.findall(r"X-Pbx-Carrier:.*", invite) == ["X-Pbx-Carrier: trunk-x"], invite


def _registers(proxy, tmp_path, stale: bool, digests: list[bool]) -> tuple[list[bool], int]:
    """Both nodes challenge every REGISTER; one REGISTER per entry of `digests` (with a guessed
    digest answer or none). Returns which were answered, and how many REGISTERs the nodes saw."""
    for uri in proxy.states():
        proxy.set_state(uri, "a")
    tmp_path.mkdir()
    nodes = []
    for port in (NODE_A, NODE_B):
        scenario = _scenario(tmp_path / f"challenge-{port}.xml", _challenge(stale))
        nodes.append((scenario, subprocess.Popen(_sipp(scenario, port, "-m", "20"), stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)))
    answered = []
    try:
        for index, digest in enumerate(digests):
            scenario = _scenario(tmp_path / f"register-{index}.xml", REGISTER % (GUESS if digest else ""))
            done = subprocess.run([*_sipp(scenario, CALLER, "-m", "1", "-key", "user", "guesser",
                                          "-recv_timeout", "3000"), f"{HOST}:{PROXY}"], capture_output=True, timeout=60)
            answered.append(done.returncode == 0)
    finally:
        for _, process in nodes:
            process.kill()
            process.wait()
    seen = sum(open(f"{scenario}.log", errors="replace").read().count("\nREGISTER sip:") for scenario, _ in nodes)
    return answered, seen


def test_failed_digests_ban_their_source_and_stale_nonces_do_not(proxy, tmp_path):
    """Last in this module: its source, 127.0.0.1, is every test's. ban_failures=3 here."""
    answered, _ = _registers(proxy, tmp_path / "stale", stale=True, digests=[True, True, False, False])
    assert answered == [True] * 4  # stale nonces and first REGISTERs are how phones work, not guesses
    answered, seen = _registers(proxy, tmp_path / "wrong", stale=False, digests=[True, True, True, False])
    assert answered == [True, True, True, False] and seen == 3  # the 4th is dropped: no answer at all
    proxy.rpc("htable.delete", "ban", HOST)  # what an operator does to lift it
    answered, _ = _registers(proxy, tmp_path / "lifted", stale=False, digests=[False])
    assert answered == [True]
