"""Hostile input in every field: 422 (and nothing stored), or stored harmlessly."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asterisk]

HOSTILE_TEXT = [
    "line\nbreak", "carriage\rreturn", "nul\x00byte", "tab\there", "bell\x07", "del\x7f",
    "x" * 101, "", "   ", "\ud800",
    "abc\u202etxt.exe", "zero\u200bwidth", "\ufeffbom", "iso\u2066late\u2069", "mark\u200f",
]
HARMLESS_TEXT = ['semi;colon', "com,ma", 'quo"te', "apos'trophe", "pi|pe", "../../etc/passwd",
                 "${EXTEN}", "Çağrı Şahin", "<sip:evil@x>", "a" * 100]
WRONG_TYPES = [1, 1.5, True, None, [], {}]


def assert_invalid(response):
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.json()["error"]["code"] == "invalid"


def test_tenant_fields(operator):
    before = len(operator.ok("GET", "/tenants")["items"])
    for bad in HOSTILE_TEXT + WRONG_TYPES:
        assert_invalid(operator.post("/tenants", json={"name": bad, "plan": "kobi"}))
    for bad in ["KOBI", "gold", "kobi\n", 1, None]:
        assert_invalid(operator.post("/tenants", json={"name": "x", "plan": bad}))
    for bad in [-1, "1", 1.5, True, None, 10**12]:
        assert_invalid(operator.post("/tenants", json={"name": "x", "plan": "kobi", "extra_extensions": bad}))
    for bad in ["true", 1, None]:
        assert_invalid(operator.post("/tenants", json={"name": "x", "plan": "kobi", "international_calls": bad}))
    assert_invalid(operator.post("/tenants", json={"name": "x", "plan": "kobi", "unknown": 1}))
    assert len(operator.ok("GET", "/tenants")["items"]) == before


def test_bodies_that_are_not_json_objects(operator):
    for raw in [b"", b"not json", b"[1,2]", b'"x"', b"\xff\xfe", b"[" * 50000, b'{"name": "x"', b"NaN"]:
        response = operator.request("POST", "/tenants", data=raw, headers={"Content-Type": "application/json"})
        assert_invalid(response)
    huge = operator.request("POST", "/tenants", data=b" " * 70000, headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"


def test_extension_fields(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/extensions"
    for bad in ["0", "1", "0101", "1234567", "10a", "1\n2", "1;2", " 101", "١٠١", 101, None]:
        assert_invalid(api.post(path, json={"number": bad, "name": "x"}))
    for bad in HOSTILE_TEXT + WRONG_TYPES:
        assert_invalid(api.post(path, json={"number": "101", "name": bad}))
    for bad in ["not-an-email", "a@b\n.com", "a@b.com\r\nBcc: x@y.z", "a;b@c.com", 5]:
        assert_invalid(api.post(path, json={"number": "101", "name": "x", "email": bad}))
    for field in ("voicemail", "record_calls"):
        assert_invalid(api.post(path, json={"number": "101", "name": "x", field: "yes"}))
    assert api.ok("GET", path)["items"] == []


def test_harmless_strings_round_trip_and_stay_out_of_asterisk(stack):
    tenant, api = stack.new_tenant("kobi")
    path = f"/tenants/{tenant['id']}/extensions"
    for i, text in enumerate(HARMLESS_TEXT):
        ext = api.ok("POST", path, {"number": f"8{i:02d}", "name": text})
        assert api.ok("GET", f"{path}/{ext['id']}")["name"] == text
        # The SIP identity never contains user text.
        assert ext["sip"]["username"].startswith(f"8{i:02d}-") and ext["sip"]["username"].replace("-", "").isalnum()
        endpoint = stack.asterisk.cli(f"pjsip show endpoint {ext['sip']['username']}")
        assert f"<8{i:02d}>" in endpoint  # the caller ID survived Asterisk's parser
    renamed = api.ok("PATCH", f"{path}/{ext['id']}", {"name": "Çağrı Şahin"})
    assert renamed["name"] == "Çağrı Şahin"


def test_patch_rejects_nulls_and_unknown_fields(stack):
    tenant, api = stack.new_tenant("kobi")
    ext = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "901", "name": "x"})
    path = f"/tenants/{tenant['id']}/extensions/{ext['id']}"
    for body in [{"name": None}, {"number": None}, {"voicemail": None}, {"sip_username": "x"}, {"id": 5}]:
        assert_invalid(api.patch(path, json=body))
    assert api.ok("GET", path) == {**ext, "sip": {k: v for k, v in ext["sip"].items() if k != "password"}}


def test_hostile_path_ids(operator):
    for tid in ["abc", "-1", "1%0a2", "1;2", "9" * 40, "%2e%2e", "１"]:
        response = operator.get(f"/tenants/{tid}")
        assert response.status_code == 404, (tid, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
