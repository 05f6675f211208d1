"""The dockerized product really runs: the project's own docker-compose.yml, on a private
Docker engine, with real pjsua2 phones on the host calling through the containers.

One stack for the module (images cached in ~/.cache/pbx/docker; see
tests/support/docker_engine.py); the tests below run in file order against it and end
with a restart of the Asterisk container. `docker-compose down -v` and the engine's stop
run on every exit path.
"""
from __future__ import annotations

import os
import time

import pytest

from tests.support.audio import dominant_frequency
from tests.support.compose import COMPOSE_PORTS, ComposeStack, compose_env
from tests.support.docker_engine import private_engine
from tests.conftest import CARRIER_ADDRESS
from tests.support.stack import Api
from tests.test_calls_live import calls_of
from tests.test_ivr import prompt, record

pytestmark = [pytest.mark.compose, pytest.mark.asterisk, pytest.mark.phone]

SIP = COMPOSE_PORTS["sip"]


@pytest.fixture(scope="module")
def compose():
    project = f"pbxtest{os.environ.get('PBX_TEST_PORT_OFFSET', '0')}"
    with private_engine() as engine:
        stack = ComposeStack(engine, project, compose_env())
        if stack.leftovers():  # from an earlier run killed before its down
            stack.down()
        try:
            stack.build()
            stack.up()
            stack.wait_healthy()
            yield stack
        finally:
            stack.down()


@pytest.fixture(scope="module")
def compose_operator(compose) -> Api:
    token = compose.exec("pbx", "pbx", "token", "create", "--operator").strip()
    return Api(f"http://127.0.0.1:{COMPOSE_PORTS['api']}/api/v1", token)


@pytest.fixture(scope="module")
def office(compose_operator, phones):
    """A tenant with extensions 101 and 102 made through the API, each with a registered phone."""
    tenant = compose_operator.ok("POST", "/tenants", {"name": "Konteyner Ltd", "plan": "kobi"})
    api = compose_operator.as_token(compose_operator.ok("POST", f"/tenants/{tenant['id']}/tokens")["token"])
    desk = {}
    for number in ("101", "102"):
        ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": number, "name": f"Masa {number}"})
        assert ext["sip"]["server"] == f"127.0.0.1:{SIP}"
        desk[number] = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=SIP)
    yield tenant, api, desk
    for phone in desk.values():
        phone.remove()


def call_and_hear_tone(caller, callee, target: str, wav_path) -> float:
    """caller dials target, callee answers; the frequency callee hears while caller plays 1 kHz."""
    call = caller.call(target)
    incoming = callee.wait_incoming(timeout=15)
    incoming.answer()
    call.wait_confirmed(timeout=15)
    incoming.wait_confirmed(timeout=10)
    incoming.start_recording(str(wav_path))
    call.play_tone(1000.0)
    time.sleep(2.5)
    incoming.stop_recording()
    call.hangup()
    incoming.wait_disconnected(timeout=15)
    return dominant_frequency(str(wav_path), skip_seconds=0.5)


def stored_calls(compose, tenant_id: int) -> list[str]:
    """Linked ids of the tenant's call records, straight from the containerized PostgreSQL."""
    rows = compose.psql(f"SELECT linkedid FROM calls WHERE tenant_id = {int(tenant_id)} ORDER BY id")
    return [row[0] for row in rows]


def test_extensions_register_and_call_through_the_containers(compose, office, tmp_path):
    _, _, desk = office
    for phone in desk.values():
        assert phone.wait_registered(timeout=15) == 200
    heard = call_and_hear_tone(desk["101"], desk["102"], "102", tmp_path / "heard-at-102.wav")
    assert abs(heard - 1000.0) < 20


def test_the_call_record_is_stored_in_the_containerized_postgres(compose, office):
    tenant, api, _ = office
    items = calls_of(api, tenant, 1, timeout=30)
    assert [(c["caller"], c["callee"], c["disposition"]) for c in items] == [("101", "102", "answered")]
    assert len(stored_calls(compose, tenant["id"])) == 1


def test_an_uploaded_prompt_plays_in_an_ivr(compose, compose_operator, office, phones, carrier, tmp_path):
    tenant, api, _ = office
    tid = tenant["id"]
    # The session's carrier phone (tests/conftest.py) is the compose stack's carrier too: a
    # second account on a transport of its own would become pjsua2's default account and
    # take the session carrier's incoming calls in every later test.
    compose_operator.ok("POST", "/trunks", {"name": "Taşıyıcı", "host": CARRIER_ADDRESS,
                                           "port": phones.sip_port(CARRIER_ADDRESS), "match": [CARRIER_ADDRESS]})
    menu = api.ok("POST", f"/tenants/{tid}/ivrs", {
        "name": "Karşılama", "greeting_prompt_id": prompt(api, tid, 1000.0, seconds=4.0),
        "options": {"2": {"type": "extension", "extension": "102"}}})
    compose_operator.ok("POST", f"/tenants/{tid}/numbers",  # the operator allocates it on the way
                        {"number": "+908505552001", "destination": {"type": "ivr", "ivr_id": menu["id"]}})
    call = carrier.call(f"sip:+908505552001@127.0.0.1:{SIP}")
    call.wait_confirmed(timeout=15)
    heard = record(call, tmp_path / "greeting.wav", 1.5)
    call.hangup()
    call.wait_disconnected(timeout=15)
    assert abs(dominant_frequency(heard, skip_seconds=0.5) - 1000.0) < 20
    # Its record is in before the next test counts records (on a loaded machine it can lag).
    calls_of(api, tenant, 2, timeout=30)


def test_asterisk_container_restart_phones_reregister_and_no_record_is_lost(compose, office, tmp_path):
    tenant, api, desk = office
    before = stored_calls(compose, tenant["id"])
    assert before, "the earlier tests' calls are recorded"

    compose.compose("restart", "asterisk")
    compose.wait_healthy(("asterisk",))
    for phone in desk.values():
        phone.reregister()
        assert phone.wait_registered(timeout=15) == 200
    heard = call_and_hear_tone(desk["102"], desk["101"], "101", tmp_path / "after-restart.wav")
    assert abs(heard - 1000.0) < 20

    items = calls_of(api, tenant, len(before) + 1, timeout=30)
    after = stored_calls(compose, tenant["id"])
    assert after[:len(before)] == before and len(after) == len(before) + 1
    assert len(items) == len(after)
    assert items[0]["caller"] == "102" and items[0]["disposition"] == "answered"
