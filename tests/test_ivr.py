"""IVR menus: a carrier calls a number, hears the greeting, presses keys."""
from __future__ import annotations

import time

import pytest

from tests.support.audio import dominant_frequency
from tests.test_prompts import encode, upload

pytestmark = [pytest.mark.asterisk]


def prompt(api, tenant_id: int, freq: float, seconds: float = 2.0) -> int:
    response = upload(api, tenant_id, encode("WAV", seconds=seconds, freq=freq, subtype="PCM_16"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def setup_menu(stack, plan="kobi", **menu_fields):
    tenant, api = stack.new_tenant(plan)
    tid = tenant["id"]
    ext = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "102", "name": "Sales"})
    greeting = prompt(api, tid, 1000.0, seconds=3.0)
    fallback = prompt(api, tid, 600.0)
    menu = api.ok("POST", f"/tenants/{tid}/ivrs", {
        "name": "Ana menü", "greeting_prompt_id": greeting,
        "options": {"2": {"type": "extension", "extension": "102"}},
        "timeout_seconds": 2, "max_attempts": 2,
        "timeout_destination": {"type": "announcement", "prompt_id": fallback}, **menu_fields})
    return tenant, api, ext, menu


def call_number(stack, api, tenant_id: int, carrier, dest: dict, did: str):
    stack.operator.ok("POST", f"/tenants/{tenant_id}/numbers", {"number": did, "destination": dest})
    call = carrier.call(f"sip:{did}@127.0.0.1:{stack.sip_port}")
    call.wait_confirmed(timeout=10)
    return call


def record(call, path, seconds: float) -> str:
    call.start_recording(str(path))
    time.sleep(seconds)
    return call.stop_recording()


@pytest.mark.phone
def test_greeting_then_key_2_rings_the_extension(stack, phones, carrier, tmp_path):
    tenant, api, ext, menu = setup_menu(stack)
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert desk.wait_registered() == 200
        call = call_number(stack, api, tenant["id"], carrier, {"type": "ivr", "ivr_id": menu["id"]}, "+908505551001")
        heard = record(call, tmp_path / "greeting.wav", 1.5)
        assert abs(dominant_frequency(heard, skip_seconds=0.5) - 1000.0) < 20
        call.send_dtmf("2")
        incoming = desk.wait_incoming(timeout=10)
        incoming.answer()
        incoming.wait_confirmed()
        call.hangup()
        incoming.wait_disconnected()
    finally:
        desk.remove()


@pytest.mark.phone
def test_no_key_retries_then_takes_the_timeout_destination(stack, carrier, tmp_path):
    tenant, api, _, menu = setup_menu(stack)
    call = call_number(stack, api, tenant["id"], carrier, {"type": "ivr", "ivr_id": menu["id"]}, "+908505551002")
    # Two attempts of 3 s greeting + 2 s wait, then the fallback announcement (600 Hz).
    time.sleep(9.5)
    heard = record(call, tmp_path / "fallback.wav", 1.2)
    assert abs(dominant_frequency(heard, skip_seconds=0.2) - 600.0) < 20
    call.wait_disconnected(timeout=10)


@pytest.mark.phone
def test_invalid_keys_lead_to_the_timeout_destination(stack, carrier, tmp_path):
    tenant, api, _, menu = setup_menu(stack)
    call = call_number(stack, api, tenant["id"], carrier, {"type": "ivr", "ivr_id": menu["id"]}, "+908505551003")
    time.sleep(1.0)
    call.send_dtmf("9")  # invalid: "that option is invalid", then the menu again
    time.sleep(3.5)
    call.send_dtmf("7")  # invalid again: out of attempts, so the timeout destination
    # What is heard is the fallback announcement (600 Hz), not the failure apology or the menu.
    heard = record(call, tmp_path / "fallback.wav", 1.2)
    assert abs(dominant_frequency(heard, skip_seconds=0.3) - 600.0) < 20
    call.wait_disconnected(timeout=20)  # the announcement hangs up after it


@pytest.mark.phone
def test_nested_menu_on_enterprise(stack, carrier, tmp_path):
    tenant, api, _, menu = setup_menu(stack, plan="enterprise")
    tid = tenant["id"]
    inner_greeting = prompt(api, tid, 1500.0, seconds=4.0)
    outer = api.ok("POST", f"/tenants/{tid}/ivrs", {
        "name": "Dış", "greeting_prompt_id": prompt(api, tid, 800.0),
        "options": {"1": {"type": "ivr", "ivr_id": menu["id"]}}})
    api.ok("PATCH", f"/tenants/{tid}/ivrs/{menu['id']}", {"greeting_prompt_id": inner_greeting})
    call = call_number(stack, api, tid, carrier, {"type": "ivr", "ivr_id": outer["id"]}, "+908505551004")
    time.sleep(0.8)
    call.send_dtmf("1")
    time.sleep(0.8)
    heard = record(call, tmp_path / "inner.wav", 1.5)
    assert abs(dominant_frequency(heard, skip_seconds=0.3) - 1500.0) < 25
    call.hangup()


def test_plan_gates_and_references(stack):
    tenant, api, ext, menu = setup_menu(stack, plan="kobi")
    tid = tenant["id"]
    path = f"/tenants/{tid}/ivrs"
    nested = api.post(path, json={"name": "x", "greeting_prompt_id": menu["greeting_prompt_id"],
                                  "options": {"1": {"type": "ivr", "ivr_id": menu["id"]}}})
    assert nested.status_code == 403 and nested.json()["error"]["code"] == "feature_not_in_plan"
    small, small_api = stack.new_tenant("girisimci")
    p = prompt(small_api, small["id"], 1000.0)
    schedule = {"type": "schedule", "schedule_id": 1, "open": {"type": "hangup"}, "closed": {"type": "hangup"}}
    gated = small_api.post(f"/tenants/{small['id']}/ivrs",
                           json={"name": "x", "greeting_prompt_id": p, "options": {"1": schedule}})
    assert gated.status_code == 403
    for bad in ({"greeting_prompt_id": 999999}, {"options": {"12": {"type": "hangup"}}},
                {"options": {"a": {"type": "hangup"}}}, {"options": {"1": {"type": "extension", "extension": "999"}}},
                {"timeout_seconds": 0}, {"max_attempts": 11}, {"options": {"1": {"type": "ivr", "ivr_id": 999}}}):
        body = {"name": "x", "greeting_prompt_id": menu["greeting_prompt_id"], "options": {}, **bad}
        assert api.post(path, json=body).status_code in (403, 422), bad
    # What a menu uses cannot be deleted; the menu itself cannot while a number routes to it.
    assert api.delete(f"/tenants/{tid}/prompts/{menu['greeting_prompt_id']}").status_code == 409
    assert api.delete(f"/tenants/{tid}/extensions/{ext['id']}").status_code == 409
    number = stack.operator.ok("POST", f"/tenants/{tid}/numbers",
                               {"number": "+908505551005", "destination": {"type": "ivr", "ivr_id": menu["id"]}})
    assert api.delete(f"{path}/{menu['id']}").status_code == 409
    api.ok("DELETE", f"/tenants/{tid}/numbers/{number['id']}", status=204)
    api.ok("DELETE", f"{path}/{menu['id']}", status=204)
    _, intruder = stack.new_tenant("enterprise")
    assert intruder.get(f"{path}/{menu['id']}").status_code == 404
