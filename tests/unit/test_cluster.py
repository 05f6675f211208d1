"""Pure parts of the cluster: the node-to-node dial string, the snapshot relay's message,
Kamailio's membership list and how its dispatcher state is read."""
from __future__ import annotations

from pbx.cluster.dial import through_proxy
from pbx.cluster.kamailio import Kamailio, KamailioConfig
from pbx.cluster.relay import MAX_PAYLOAD, WrittenRelay, decode, encode
from pbx.db.unit import Database
from pbx.db.written import Written


def test_extension_dials_go_through_the_proxy_and_trunk_dials_do_not():
    proxy = "10.200.8.1:40860"
    assert through_proxy("PJSIP/101-ab12cd34", proxy) == "PJSIP/101-ab12cd34/sip:101-ab12cd34@10.200.8.1:40860"
    assert through_proxy("PJSIP/101-a&PJSIP/102-b", proxy) == (
        "PJSIP/101-a/sip:101-a@10.200.8.1:40860&PJSIP/102-b/sip:102-b@10.200.8.1:40860")
    assert through_proxy("PJSIP/905551234567@trunk-3", proxy) == "PJSIP/905551234567@trunk-3"
    assert through_proxy("PJSIP/101-a", "") == "PJSIP/101-a"


def test_a_relayed_write_names_the_same_rows():
    written = Written()
    written.add_row("extensions", 7, 3)
    written.whole.add("trunks")
    origin, back = decode(encode(written, "host:1"))
    assert origin == "host:1" and back.rows == {"extensions": {7: 3}} and back.whole == {"trunks"}


def test_a_write_too_large_for_notify_goes_as_whole_tables():
    written = Written()
    for key in range(5000):
        written.add_row("extensions", key, 1)
    payload = encode(written, "h")
    assert len(payload) < MAX_PAYLOAD and decode(payload)[1].whole == {"extensions"}


def test_another_nodes_write_reaches_the_listeners_of_its_tables_only():
    database = Database(sessionmaker=None)
    heard: dict[str, list] = {"routing": [], "trunks": []}
    database.subscribe({"extensions", "trunks"}, heard["routing"].append)
    database.subscribe({"trunks"}, heard["trunks"].append)
    relay = WrittenRelay("postgresql+asyncpg://pbx@10.200.8.1:5432/pbx", database)
    database.subscribe(database.subscribed_tables(), relay.committed)
    extension, trunk = Written(), Written()
    extension.add_row("extensions", 7, 3)
    trunk.add_row("trunks", 2, None)
    for written in (extension, trunk):
        relay._heard(None, 0, "pbx_written", encode(written, "other-node:1"))
    relay._heard(None, 0, "pbx_written", encode(trunk, relay.origin))  # its own: already applied
    assert [w.tables for w in heard["routing"]] == [{"extensions"}, {"trunks"}]
    assert [w.rows for w in heard["trunks"]] == [{"trunks": {2: None}}]
    assert relay._queue.empty()  # what it heard is not announced back


def test_membership_list_marks_a_drained_node_disabled(tmp_path):
    config = KamailioConfig("10.200.8.1", 40860, tmp_path, "s")
    config.write_members({"sip:10.200.8.11:5060": "A", "sip:10.200.8.12:5060": "D"})
    assert config.dispatcher_list.read_text() == "1 sip:10.200.8.11:5060 0 0\n1 sip:10.200.8.12:5060 4 0\n"


def test_dispatcher_states_are_read_from_kamcmd_output(tmp_path, monkeypatch):
    kamailio = Kamailio(KamailioConfig("10.200.8.1", 40860, tmp_path, "s"))
    listing = """{ SET: { ID: 1 TARGETS: {
        DEST: {\n URI: sip:10.200.8.11:5060\n FLAGS: AP\n }
        DEST: {\n URI: sip:10.200.8.12:5060\n FLAGS: IP\n }
        DEST: {\n URI: sip:10.200.8.13:5060\n FLAGS: DX\n } } } }"""
    monkeypatch.setattr(kamailio, "rpc", lambda *command: listing)  # what kamcmd printed
    assert kamailio.states() == {"sip:10.200.8.11:5060": "active", "sip:10.200.8.12:5060": "inactive",
                                 "sip:10.200.8.13:5060": "drained"}


def test_the_membership_routes_document_their_errors():
    from pbx.api import cluster, openapi

    paths = openapi.document(cluster.ROUTES)["paths"]
    assert {"201", "403", "404", "409", "422", "503"} <= set(paths["/api/v1/cluster/nodes"]["post"]["responses"])
    for action in ("drain", "undrain", "remove"):
        assert {"403", "404", "422", "503"} <= set(paths[f"/api/v1/cluster/nodes/{action}"]["post"]["responses"])


def test_a_kamailio_that_does_not_answer_is_a_503_not_a_crash(tmp_path):
    import asyncio

    import pytest

    from pbx.cluster.membership import Membership
    from pbx.domain.errors import ProxyUnavailable

    with pytest.raises(ProxyUnavailable) as raised:
        asyncio.run(Membership(f"unix:{tmp_path / 'no-kamailio.sock'}").nodes())
    assert raised.value.status == 503
