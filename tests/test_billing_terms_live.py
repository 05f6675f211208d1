"""Terms on the real exchange: a trial that ends unconverted suspends the tenant, and the
next inbound call through the carrier is answered with the suspension message and never
reaches the extension; the data is all still there, and converting brings calls back. An
upgrade mid-term is charged pro rata on the month's invoice; a downgrade waits."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pbx.billing.terms import prorata_upgrade
from tests.support.audio import rms_dbfs
from tests.support.calls import wait_for
from tests.support.phone import answer_and_hang_up

pytestmark = [pytest.mark.asterisk, pytest.mark.phone]


def test_an_ended_trial_suspends_calls_with_a_message_and_keeps_the_data(stack, phones, carrier, tmp_path):
    tenant, api = stack.new_tenant("kobi", trial=True)
    tid, did = tenant["id"], "+90850557" + str(4000 + tenant["id"])
    terms = api.ok("GET", f"/tenants/{tid}/billing")
    assert terms["trial_ends_at"] and not terms["trial_converted"]
    ext = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "101", "name": "Ayşe"})
    stack.operator.ok("POST", f"/tenants/{tid}/numbers",
                      {"number": did, "destination": {"type": "extension", "extension": "101"}})
    stack.sql("UPDATE billing_accounts SET trial_ends_at = :at WHERE tenant_id = :tid",
              at="2026-01-01 00:00:00.000000", tid=tid)
    assert stack.operator.ok("POST", "/billing/terms/run", status=200)["suspended"] >= 1
    desk = phones.add_phone(ext["sip"]["username"], ext["sip"]["password"], port=stack.sip_port)
    try:
        assert desk.wait_registered() == 200
        call = carrier.call(f"sip:{did}@127.0.0.1:{stack.sip_port}")
        call.wait_confirmed(timeout=10)  # answered so the caller hears why
        heard = tmp_path / "suspended.wav"
        call.start_recording(str(heard))
        call.wait_disconnected(timeout=20)  # the exchange ends the call after the message
        call.stop_recording()
        assert desk.incoming_count() == 0  # never reached the extension
        assert rms_dbfs(str(heard)) > -35  # the spoken message, not silence
        # Nothing is deleted: the extension, the number and the call record are all there.
        assert [e["number"] for e in api.ok("GET", f"/tenants/{tid}/extensions")["items"]] == ["101"]
        assert [n["number"] for n in api.ok("GET", f"/tenants/{tid}/numbers")["items"]] == [did]
        refused = wait_for(lambda: [c for c in api.ok("GET", f"/tenants/{tid}/calls")["items"]
                                    if c["disposition"] == "refused"])
        assert refused and refused[0]["direction"] == "inbound", refused
        # Converted: the term starts, and calls ring the extension again.
        assert stack.operator.ok("POST", f"/tenants/{tid}/billing/convert", status=200)["trial_converted"]
        answer_and_hang_up(carrier.call(f"sip:{did}@127.0.0.1:{stack.sip_port}"), desk, ring_s=15)
    finally:
        desk.remove()


def test_an_upgrade_mid_term_is_charged_pro_rata_and_a_downgrade_waits(stack):
    tenant, api = stack.new_tenant("girisimci")
    tid = tenant["id"]
    stack.sql("UPDATE billing_accounts SET term_started_at = :at WHERE tenant_id = :tid",
              at="2026-09-01 00:00:00.000000", tid=tid)
    before = datetime.now(timezone.utc)
    assert api.post(f"/tenants/{tid}/billing/plan-change", json={"plan": "kobi"}).status_code == 403
    changed = stack.operator.ok("POST", f"/tenants/{tid}/billing/plan-change", {"plan": "kobi"}, status=200)
    assert changed["effective"] == "now" and api.ok("GET", f"/tenants/{tid}")["plan"] == "kobi"
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    expected = {str(prorata_upgrade(Decimal(250), Decimal(700), start, at, 12))
                for at in (before, datetime.now(timezone.utc))}  # the same unless a day turned meanwhile
    assert changed["charge"] in expected
    month = datetime.now(ZoneInfo("Europe/Istanbul")).strftime("%Y-%m")
    lines = api.ok("GET", f"/tenants/{tid}/invoices?month={month}")["lines"]
    assert lines[-1] == {"description": "Paket yükseltme Girişimci → KOBİ (kalan süre, kıst)", "quantity": "1",
                         "unit_price": changed["charge"], "amount": changed["charge"]}
    down = stack.operator.ok("POST", f"/tenants/{tid}/billing/plan-change", {"plan": "girisimci"}, status=200)
    assert (down["effective"], down["pending_plan"]) == ("renewal", "girisimci")
    assert api.ok("GET", f"/tenants/{tid}")["plan"] == "kobi"
    assert api.ok("GET", f"/tenants/{tid}/billing")["pending_plan"] == "girisimci"
    bad = stack.operator.post(f"/tenants/{tid}/billing/plan-change", json={"plan": "platinum"})
    assert bad.status_code == 422
