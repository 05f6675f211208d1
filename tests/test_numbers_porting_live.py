"""The number pool and number porting on the real exchange: the operator stocks 0850 and
geographic numbers and a tenant picks one; a port is due 3 Turkish business days after
submission, needs its document, raises an event at every status, and once completed a
carrier call to the ported number rings the destination extension."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from pbx.numbers.business_days import add_business_days
from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def istanbul_today() -> date:
    return datetime.now(ZoneInfo("Europe/Istanbul")).date()


def upload(api, path: str, data: bytes, content_type: str = "application/pdf"):
    return api.request("PUT", path, files={"file": ("x.bin", data, content_type), "name": (None, "Başvuru formu")})


def test_the_pool_offers_free_numbers_and_a_tenant_picks_one(stack):
    tenant, api = stack.new_tenant("kobi")
    other_tenant, other = stack.new_tenant("kobi")
    suffix = f"{tenant['id'] % 100:02d}"
    geographic = f"+9021255570{suffix}"
    bad = stack.operator.post("/number-pool", json={"numbers": ["0532 555 00 00", f"0212 555 70 {suffix}"]})
    assert bad.status_code == 422  # a mobile number: the whole request refused
    added = stack.operator.ok("POST", "/number-pool", {"numbers": [f"0212 555 70 {suffix}", f"0850 555 70 {suffix}"]})
    assert added == {"added": 2}
    assert api.post("/number-pool", json={"numbers": ["02125557000"]}).status_code == 403
    assert geographic in [n["number"] for n in api.ok("GET", "/number-pool?area=0212")["items"]]
    assert geographic not in [n["number"] for n in api.ok("GET", "/number-pool?area=0850")["items"]]
    picked = api.ok("POST", f"/tenants/{tenant['id']}/number-pool/pick", {"number": f"0212 555 70 {suffix}"})
    assert picked["number"] == geographic
    assert geographic not in [n["number"] for n in api.ok("GET", "/number-pool")["items"]]
    taken = other.post(f"/tenants/{other_tenant['id']}/number-pool/pick", json={"number": geographic})
    assert taken.status_code == 409
    assert other.post(f"/tenants/{tenant['id']}/number-pool/pick", json={"number": geographic}).status_code == 404
    # Picked, the tenant routes it itself.
    api.ok("POST", f"/tenants/{tenant['id']}/numbers", {"number": geographic, "destination": {"type": "hangup"}})


def test_a_port_moves_through_its_statuses_and_then_routes_the_number(stack, phones, carrier):
    tenant, api = stack.new_tenant("kobi")
    tid = tenant["id"]
    ext = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "101", "name": "Ayşe"})
    number = f"+90312555{7000 + tid}"
    base = f"/tenants/{tid}/porting-requests"
    body = {"number": "0" + number[3:], "current_operator": "Türk Telekom",
            "destination": {"type": "extension", "extension": "101"}}
    assert api.post(base, json={**body, "destination": {"type": "extension", "extension": "999"}}).status_code == 422
    assert api.post(base, json={**body, "current_operator": "TT\n;Dial"}).status_code == 422
    before = istanbul_today()
    port = api.ok("POST", base, body)
    submitted_on = {before, istanbul_today()}  # two days when the request straddles Istanbul's midnight
    assert (port["status"], port["number"]) == ("submitted", number)
    assert date.fromisoformat(port["expected_date"]) in {add_business_days(day, 3) for day in submitted_on}
    one = f"{base}/{port['id']}"
    assert api.patch(one, json={"status": "approved"}).status_code == 403  # the operator moves it on
    assert stack.operator.patch(one, json={"status": "approved"}).status_code == 409  # no document yet
    assert upload(api, f"{one}/document", b"MZ\x90\x00 not a document").status_code == 415
    assert upload(api, f"{one}/document", PDF + b"0" * (5 * 1024 * 1024)).status_code == 413
    shown = upload(api, f"{one}/document", PDF)
    assert shown.status_code == 200 and shown.json()["document"]["media_type"] == "application/pdf"
    assert stack.operator.patch(one, json={"status": "completed"}).status_code == 409  # not yet scheduled
    for status in ("approved", "scheduled", "completed"):
        assert stack.operator.ok("PATCH", one, {"status": status})["status"] == status
    types = [r[0] for r in stack.sql("SELECT type FROM events WHERE tenant_id = :t AND type LIKE 'porting.%' "
                                     "ORDER BY seq", t=tid)]
    assert types == ["porting.submitted", "porting.approved", "porting.scheduled", "porting.completed"]
    assert number in [n["number"] for n in api.ok("GET", f"/tenants/{tid}/numbers")["items"]]
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert desk.wait_registered() == 200
        # The ported number reaches its destination.
        answer_and_hang_up(carrier.call(f"sip:{number}@127.0.0.1:{stack.sip_port}"), desk, ring_s=15)
    finally:
        desk.remove()
