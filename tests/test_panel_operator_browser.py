"""The panel's operator screens (trunks and their state, number allocation), the extension
editor (every field, a new SIP password and its QR code) and recordings for agents, in a real
browser (Debian's headless Chromium) against the session's real Asterisk, with real phones.
The issue's "finds yesterday's call by number and time, plays its recording, and the access log
gains the entry": a real carrier call, recorded by the real Asterisk, is dated back one day by
a test fixture (its rows' timestamps and its archive file: tests/support/dated.py), then found
in the page by yesterday's range and the number. Screenshots go to tests/artifacts/."""
from __future__ import annotations

import shutil
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.calls import wait_for
from tests.support.dated import DAY, date_back_one_day
from tests.test_panel_browser import CATALOGUES, catalogue_keys, decode_qr, parse_sip_uri, shown_texts

pytestmark = [pytest.mark.asterisk,
              pytest.mark.skipif(not shutil.which("chromedriver"), reason="scripts/setup --test installs chromium")]

PASSWORD = "Panel-Parola-2026"
DID = "+908505559201"  # routed to 101 here; no other test uses it
TR, IST = CATALOGUES["tr"], ZoneInfo("Europe/Istanbul")


@pytest.fixture(scope="module")
def world(stack, phones):
    """A KOBİ tenant that records calls: 101 with a real phone, 102; its admin, an agent on each
    extension, an operator; DID routed to 101. The phones go at teardown (pjsua's 8 accounts)."""
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    tid = tenant["id"]
    desk = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "101", "name": "Ayşe Işık"})
    api.ok("POST", f"/tenants/{tid}/extensions", {"number": "102", "name": "Irmak"})
    stack.operator.ok("POST", f"/tenants/{tid}/numbers", {"number": DID, "destination": {"type": "extension", "extension": "101"}})
    people = {}
    for key, role, extension in (("admin", "tenant_admin", None), ("agent", "agent", "101"), ("colleague", "agent", "102"),
                                 ("operator", "operator", None)):
        email = f"{key}.{tid}@panelb.example.com"
        body = {"email": email, "name": f"Kişi {key}", "role": role, "password": PASSWORD,
                **({"tenant_id": tid} if role != "operator" else {}), **({"extension": extension} if extension else {})}
        people[key] = stack.operator.ok("POST", "/users", body)
    phone = phones.add_phone(desk["sip"]["username"], desk["sip"]["password"], port=stack.sip_port)
    state = {"phones": [phone]}
    try:
        assert phone.wait_registered() == 200
        yield {"tenant": tenant, "api": api, "people": people, "desk": phone, "state": state}
    finally:
        for each in state["phones"]:
            each.remove()


def sign_in_as(browser, user: dict) -> None:
    browser.switch_to(user["email"], PASSWORD)


def accept_confirm(browser) -> None:
    WebDriverWait(browser.driver, 10).until(EC.alert_is_present())
    browser.driver.switch_to.alert.accept()


def read_entries(api, tid: int, recording_id: int, user: dict) -> list[dict]:
    log = api.ok("GET", f"/tenants/{tid}/recordings/{recording_id}/access-log")["items"]
    return [e for e in log if e["action"] == "read" and e["actor"] == f"user:{user['id']}"]


def search_yesterday(browser, tid: int, number: str) -> None:
    browser.go(f"#/t/{tid}/calls")
    browser.find("#calls-yesterday").click()
    browser.fill("#call-filter", number=number)
    browser.find("#call-filter [name=number]").send_keys(Keys.ENTER)  # the keyboard submits


@pytest.mark.phone
def test_yesterdays_call_is_found_by_number_and_time_and_its_play_is_logged(stack, world, browser, carrier):
    tid, api = world["tenant"]["id"], world["api"]
    call = carrier.call(f"sip:{DID}@127.0.0.1:{stack.sip_port}")
    incoming = world["desk"].wait_incoming(timeout=15)
    incoming.answer()
    call.wait_confirmed(timeout=10)
    incoming.play_tone(700.0)
    time.sleep(2.0)  # something to record
    call.hangup()
    incoming.wait_disconnected(timeout=10)
    [made] = wait_for(lambda: [c for c in api.ok("GET", f"/tenants/{tid}/calls?number={DID.replace('+', '%2B')}")["items"]
                               if c["recording_id"]], timeout=45)
    date_back_one_day(stack, made["id"])
    [found] = [c for c in api.ok("GET", f"/tenants/{tid}/calls")["items"] if c["id"] == made["id"]]
    started = datetime.fromisoformat(found["started_at"]).astimezone(IST)
    assert started.date() == (datetime.now(IST) - DAY).date()
    world["state"]["call"] = found

    sign_in_as(browser, world["people"]["admin"])
    search_yesterday(browser, tid, "0850 555 92 01")  # as support types it: national, with spaces
    expected = (datetime.now(IST) - DAY).strftime("%Y-%m-%d")
    assert browser.find("#call-filter [name=from]").get_attribute("value") == f"{expected}T00:00"
    row = browser.find(f"tr[data-call='{found['id']}']")
    assert started.strftime("%d.%m.%Y %H:%M") in row.text
    row.find_element("css selector", "button.play").click()
    audio = browser.find(f"tr[data-call='{found['id']}'] audio")
    duration = browser.wait(lambda: browser.driver.execute_script(
        "const a = arguments[0]; return a.readyState >= 1 && isFinite(a.duration) ? a.duration : null", audio), timeout=15)
    assert duration >= 1.5
    browser.screenshot("calls-yesterday")
    assert wait_for(lambda: read_entries(api, tid, found["recording_id"], world["people"]["admin"]), timeout=15)
    browser.find("#calls-today").click()
    browser.find("#call-filter button[type=submit]").click()
    browser.find("#no-calls")  # today holds no such call any more: the date is honest


def test_an_agent_plays_its_own_calls_recording_and_a_colleague_cannot(world, browser):
    tid, api, found = world["tenant"]["id"], world["api"], world["state"]["call"]
    sign_in_as(browser, world["people"]["agent"])
    search_yesterday(browser, tid, DID)
    row = browser.find(f"tr[data-call='{found['id']}']")
    row.find_element("css selector", "button.play").click()
    audio = browser.find(f"tr[data-call='{found['id']}'] audio")
    browser.wait(lambda: browser.driver.execute_script("return arguments[0].readyState", audio) >= 1, timeout=15)
    browser.screenshot("calls-agent-recording")
    assert wait_for(lambda: read_entries(api, tid, found["recording_id"], world["people"]["agent"]), timeout=15)

    sign_in_as(browser, world["people"]["colleague"])
    search_yesterday(browser, tid, DID)
    browser.find("#no-calls")
    audio_path = f"/api/v1/tenants/{tid}/recordings/{found['recording_id']}/audio"
    assert browser.fetch("GET", audio_path) == 404
    assert not read_entries(api, tid, found["recording_id"], world["people"]["colleague"])


@pytest.mark.phone
def test_admin_edits_every_field_and_a_new_sip_password_registers_from_its_qr_code(stack, phones, world, browser):
    tid, api = world["tenant"]["id"], world["api"]
    sign_in_as(browser, world["people"]["admin"])
    browser.go(f"#/t/{tid}/extensions")
    browser.find("tr[data-number='101'] button.edit").click()
    browser.fill("#extension-edit", number="102")
    browser.find("#extension-edit button[type=submit]").click()
    assert "102" in browser.find("#extension-edit .error").text  # the API's own 409 message
    browser.fill("#extension-edit", number="101", email="ayse.isik@ornek.com.tr", name="Ayşe Işık Yıldız")
    browser.find("#extension-edit [name=voicemail]").click()
    browser.find("#extension-edit [name=record_calls]").click()
    browser.screenshot("extension-edit")
    browser.find("#extension-edit button[type=submit]").click()
    browser.wait(lambda: not browser.all("#extension-edit"))
    [ext] = [e for e in api.ok("GET", f"/tenants/{tid}/extensions")["items"] if e["number"] == "101"]
    assert (ext["name"], ext["email"], ext["voicemail"], ext["record_calls"]) == (
        "Ayşe Işık Yıldız", "ayse.isik@ornek.com.tr", True, False)

    browser.find("tr[data-number='101'] button.edit").click()
    browser.find("#new-sip-password").click()
    accept_confirm(browser)
    qr = browser.find("#sip-qr")
    browser.wait(lambda: browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", qr))
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", qr)
    user, password, host, port = parse_sip_uri(decode_qr(qr.screenshot_as_png))
    assert (user, password) == (browser.find("#sip-username").text, browser.find("#sip-password").text)
    assert user == ext["sip"]["username"]
    browser.screenshot("extension-new-password")
    phone = phones.add_phone(user, password, domain=host, port=port)
    world["state"]["phones"].append(phone)
    assert phone.wait_registered(timeout=15) == 200
    api.ok("PATCH", f"/tenants/{tid}/extensions/{ext['id']}", {"record_calls": True})  # as it was


def test_the_plan_that_records_calls_is_named_in_the_editor(stack, browser):
    small, api = stack.new_tenant("girisimci")
    api.ok("POST", f"/tenants/{small['id']}/extensions", {"number": "201", "name": "Küçük"})
    admin = stack.operator.ok("POST", "/users", {"email": f"admin.{small['id']}@panelb.example.com", "name": "Küçük",
                                                  "role": "tenant_admin", "tenant_id": small["id"], "password": PASSWORD})
    sign_in_as(browser, admin)
    browser.go(f"#/t/{small['id']}/extensions")
    browser.find("tr[data-number='201'] button.edit").click()
    gate = browser.find("#extension-edit .gate")
    assert gate.text == TR["gate.needs"].format(feature=TR["feature.recording"], plan=TR["plan.kobi"])
    assert not browser.all("#extension-edit [name=record_calls]")


def test_the_operator_sees_each_trunks_state_and_figures_refreshed(stack, world, browser, carrier):
    dead = stack.operator.ok("POST", "/trunks", {"name": "Ölü Hat", "host": "127.0.9.8", "port": 5099,
                                                 "match": ["127.0.9.8"]})
    try:
        sign_in_as(browser, world["people"]["operator"])
        browser.go("#/operator/trunks")
        live = "#trunks tr[data-trunk] td:first-child"
        browser.wait(lambda: "Carrier" in [c.text for c in browser.all(live)])
        [carrier_row] = [r for r in browser.all("#trunks tr[data-trunk]") if r.text.startswith("Carrier")]
        trunk_id = carrier_row.get_attribute("data-trunk")
        row = f"#trunks tr[data-trunk='{trunk_id}']"
        browser.wait(lambda: browser.find(row).get_attribute("data-reachable") == "true", timeout=20)
        assert TR["trunk.reachable"] in browser.find(f"{row} .trunk-state").text
        status = stack.operator.ok("GET", f"/trunks/{trunk_id}/status")
        assert browser.find(f"{row} .trunk-since").text == datetime.fromisoformat(status["since"]).astimezone(IST).strftime("%d.%m.%Y %H:%M")
        assert float(browser.find(f"{row} .trunk-rtt").text) >= 0
        assert int(browser.find(f"{row} .trunk-calls").text) >= 1  # yesterday's call came through it, just now
        assert browser.find(f"{row} .trunk-answer").text.endswith("%")
        # The dead trunk is read again every few seconds: its qualify fails, and the page says so unprompted.
        gone = f"#trunks tr[data-trunk='{dead['id']}']"
        browser.wait(lambda: browser.find(gone).get_attribute("data-reachable") == "false", timeout=30)
        assert TR["trunk.unreachable"] in browser.find(f"{gone} .trunk-state").text
        browser.screenshot("operator-trunks-state")
        browser.driver.set_window_size(390, 844)  # a phone
        try:
            time.sleep(0.3)
            assert browser.driver.execute_script("return document.documentElement.scrollWidth") <= 390 + 1
            browser.screenshot("operator-trunks-phone")
        finally:
            browser.driver.set_window_size(1280, 900)
    finally:
        stack.operator.ok("DELETE", f"/trunks/{dead['id']}", status=204)


def test_the_operator_allocates_a_number_and_takes_it_back_with_the_apis_refusals_shown(stack, world, browser):
    tenant, people = world["tenant"], world["people"]
    other, _ = stack.new_tenant("kobi")
    sign_in_as(browser, people["operator"])
    browser.go("#/operator/allocations")
    routed = browser.find(f"#allocations tr[data-number='{DID}']")
    assert tenant["name"] in routed.text and TR["alloc.routed"] in routed.text
    free = "+908505579901"
    browser.fill("#allocate-form", number="0850 557 99 01")
    browser.select("#allocate-form select[name=tenant]", str(other["id"]))
    browser.find("#allocate-form [name=number]").send_keys(Keys.ENTER)
    row = f"#allocations tr[data-number='{free}']"
    browser.wait(lambda: browser.all(row) and other["name"] in browser.find(row).text)
    assert [a["number"] for a in stack.operator.ok("GET", f"/tenants/{other['id']}/number-allocations")["items"]] == [free]

    browser.fill("#allocate-form", number=free)  # already held: the API's 409, in its own words
    browser.select("#allocate-form select[name=tenant]", str(tenant["id"]))
    browser.find("#allocate-form button[type=submit]").click()
    assert "already allocated" in browser.find("#allocate-form .error").text

    browser.find(f"#allocations tr[data-number='{DID}'] button").click()  # still routed: refused, and said why
    accept_confirm(browser)
    assert "still routed" in browser.find("section > .error").text
    browser.find("#alloc-filter").send_keys(other["name"])
    browser.wait(lambda: len(browser.all("#allocations tbody tr")) == 1)
    browser.screenshot("operator-allocations")
    browser.find(f"{row} button").click()
    accept_confirm(browser)
    browser.find("#no-allocations")
    assert stack.operator.ok("GET", f"/tenants/{other['id']}/number-allocations")["items"] == []
    assert any(a["number"] == DID for a in stack.operator.ok("GET", f"/tenants/{tenant['id']}/number-allocations")["items"])


def test_the_operator_screens_switch_to_english_whole(world, browser, carrier):
    sign_in_as(browser, world["people"]["operator"])
    for screen in ("trunks", "allocations"):
        browser.go(f"#/operator/{screen}")
        browser.find("#page-title")
        browser.wait(lambda: browser.all("tbody tr"))
        time.sleep(0.5)
        turkish_texts = shown_texts(browser)
        turkish = catalogue_keys(turkish_texts, "tr")
        assert len(turkish) > 8
        browser.find("#lang-switch").click()
        browser.wait(lambda: browser.driver.execute_script("return document.documentElement.lang") == "en")
        time.sleep(0.5)
        english_texts = shown_texts(browser)
        alike = {v for k, v in TR.items() if v == CATALOGUES["en"][k]}
        unchanged = (turkish_texts & english_texts) - alike
        assert not unchanged & set(TR.values()), sorted(unchanged)
        assert turkish <= catalogue_keys(english_texts, "en"), sorted(turkish - catalogue_keys(english_texts, "en"))
        browser.screenshot(f"operator-{screen}-en")
        browser.find("#lang-switch").click()
        browser.wait(lambda: browser.driver.execute_script("return document.documentElement.lang") == "tr")
