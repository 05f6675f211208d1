"""The panel's settings, CRM, webhooks, click-to-call and screen pop in a real browser
(Debian's headless Chromium), against the session's real Asterisk and control plane with
real phones: the admin changes the recording settings and the API shows them; connects the
local HubSpot and looks a number up; creates a webhook (its secret shown once) and reads its
delivery log after an event; an agent clicks to call (its phone rings and answers, the
carrier gets the call); a carrier call pops the agent's screen with the CRM contact, hostile
markup shown as text, before the answer; the admin calls a number from the call history;
plan gates, English and a phone-sized screen. Screenshots go to tests/artifacts/."""
from __future__ import annotations

import re
import shutil

import pytest
from selenium.webdriver.common.keys import Keys

from tests.support.calls import wait_for
from tests.support.crm_hubspot import PORTAL, TOKEN, HubSpotServer
from tests.support.events import Receiver
from tests.test_outbound import number_at_carrier
from tests.test_panel_browser import CATALOGUES, catalogue_keys, shown_texts

pytestmark = [pytest.mark.asterisk,
              pytest.mark.skipif(not shutil.which("chromedriver"), reason="scripts/setup --test installs chromium")]

PASSWORD = "Ayarlar-Parola-2026"
CALLER = "05321234567"  # how the carrier presents the caller; the CRM holds +90 532 123 45 67
# What a hostile CRM user could type: markup, a script hook, a newline faking a second line, a bidi override.
HOSTILE_NAME = '<img src=x onerror="document.body.dataset.pwned=1">\nAyşe <b>Yılmaz</b>\u202e'
CONTACT = {"name": HOSTILE_NAME, "company": "Çağrı & <Ortaklar>\nLtd", "phone": "+905321234567",
           "order": {"id": "SO-1001", "date": "2026-11-20", "total": "1250.5", "status": "Kargoda"}}
TR = CATALOGUES["tr"]


def one_line(text: str) -> str:
    """What contact.js shows: control and bidi characters become spaces, runs of spaces one."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+", " ", text)
    return re.sub(r" {2,}", " ", text).strip()


@pytest.fixture(scope="module")
def world(stack):
    """A KOBİ tenant whose number rings extension 101 (its agent's), its admin and that agent."""
    tenant, api = stack.new_tenant("kobi")
    tid = tenant["id"]
    desk = api.ok("POST", f"/tenants/{tid}/extensions", {"number": "101", "name": "Irmak Işık"})
    did = f"+90850557{tid:04d}"
    stack.operator.ok("POST", f"/tenants/{tid}/numbers", {"number": did, "destination": {"type": "extension",
                                                                                           "extension": "101"}})
    people = {}
    for role, extension in (("tenant_admin", None), ("agent", "101")):
        people[role] = f"{role}.settings.{tid}@example.com"
        stack.operator.ok("POST", "/users", {"email": people[role], "name": f"Ayşe {role}", "role": role,
                                             "tenant_id": tid, "password": PASSWORD,
                                             **({"extension": extension} if extension else {})})
    return {"tenant": tenant, "api": api, "did": did, "sip": desk["sip"], "people": people}


@pytest.fixture(scope="module")
def crm_server():
    server = HubSpotServer(CONTACT)
    yield server
    server.close()


@pytest.fixture(scope="module")
def desk(stack, phones, world, carrier_line):
    """Extension 101's phone (the agent's). pjsua hands a request no account matches to the
    newest account, so the carrier is made that default again (it gets the outbound calls)."""
    phone = phones.add_phone(world["sip"]["username"], world["sip"]["password"], port=stack.sip_port)
    carrier_line[1].make_default()
    assert phone.wait_registered(timeout=10) == 200
    yield phone
    phone.remove()


@pytest.fixture(scope="module")
def caller(stack, phones, carrier_line):
    """An account on the carrier's address (so Asterisk takes it for the carrier) presenting CALLER."""
    phone = phones.add_phone(CALLER, "unused", register=False, bind_address="127.0.5.7", port=stack.sip_port)
    carrier_line[1].make_default()
    yield phone
    phone.remove()


def signed_in(browser, email: str) -> None:
    """The module's one browser, signed in as this user (each test names whom it needs)."""
    if getattr(browser, "user", None) == email:
        return
    browser.switch_to(email, PASSWORD)
    browser.user = email


def test_admin_changes_the_recording_settings_and_the_api_shows_them(world, browser):
    tid, api = world["tenant"]["id"], world["api"]
    signed_in(browser, world["people"]["tenant_admin"])
    browser.go(f"#/t/{tid}/settings")
    record = browser.find("#settings-form input[name=record_calls]")
    notice = browser.find("#settings-form input[name=recording_notice]")
    assert (record.is_selected(), notice.is_selected()) == (False, True)
    record.send_keys(Keys.SPACE)  # by keyboard
    notice.click()
    browser.find("#settings-form button[type=submit]").click()
    browser.find("#settings-saved")
    shown = api.ok("GET", f"/tenants/{tid}")
    assert (shown["record_calls"], shown["recording_notice"]) == (True, False)
    assert api.ok("GET", f"/tenants/{tid}/settings") == {"record_calls": True, "recording_notice": False}
    browser.driver.refresh()  # read back from the server
    assert browser.find("#settings-form input[name=record_calls]").is_selected()
    assert not browser.find("#settings-form input[name=recording_notice]").is_selected()
    browser.screenshot("settings")


def test_admin_connects_hubspot_and_a_test_lookup_shows_the_contact_as_text(world, browser, crm_server):
    tid, api = world["tenant"]["id"], world["api"]
    signed_in(browser, world["people"]["tenant_admin"])
    browser.go(f"#/t/{tid}/crm")
    browser.find("#crm-none")
    options = [o.get_attribute("value") for o in browser.all("#crm-form select[name=provider] option")]
    assert options == ["hubspot", "zoho"]  # KOBİ's; the others are gated with the plan that has them
    assert browser.find("#crm-form .gate").text == TR["gate.needs"].format(
        feature=TR["feature.crm_advanced"], plan=TR["plan.enterprise"])
    browser.fill("#crm-form", base_url=crm_server.url, access_token=TOKEN, portal_id=PORTAL)
    browser.find("#crm-form button[type=submit]").click()
    browser.wait(lambda: "HubSpot" in browser.find("#crm-status").text)
    assert TOKEN not in browser.text() and not browser.find("#crm-form [name=access_token]").get_attribute("value")
    connection = api.ok("GET", f"/tenants/{tid}/crm")
    assert connection["provider"] == "hubspot" and "credentials" not in connection
    browser.fill("#crm-lookup", number=CALLER)
    browser.find("#crm-lookup button[type=submit]").click()
    card = browser.find("#lookup-contact")
    looked_up = api.ok("GET", f"/tenants/{tid}/crm/lookup?number={CALLER}")["contact"]
    assert browser.find("#lookup-contact .contact-name").text == one_line(looked_up["name"])
    assert "<img" in card.text and not card.find_elements("css selector", "img, b")
    assert browser.find("#lookup-contact .contact-company").text == one_line(looked_up["company"])
    assert browser.find("#lookup-contact .contact-order").text == "SO-1001 · 20.11.2026 · 1250.50 · Kargoda"
    link = browser.find("#lookup-contact a.contact-link").get_attribute("href")
    assert link.startswith(f"https://app.hubspot.com/contacts/{PORTAL}/")
    assert browser.driver.execute_script("return document.body.dataset.pwned") is None
    links = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; import('/panel/js/contact.js').then(m => done("
        "['javascript:alert(1)', 'data:text/html,x', ' https://crm.example/k?a=1', 'nothing'].map(m.safeLink)))")
    assert links == [None, None, "https://crm.example/k?a=1", None]  # a CRM's link only over http(s)
    browser.screenshot("crm")


def test_admin_creates_a_webhook_sees_its_secret_once_and_its_delivery_log(world, browser):
    tid, api = world["tenant"]["id"], world["api"]
    signed_in(browser, world["people"]["tenant_admin"])
    receiver = Receiver("unknown until shown")
    try:
        browser.go(f"#/t/{tid}/webhooks")
        browser.find("#no-webhooks")
        inside = "http://10.20.30.40/hook"  # a private address: the API refuses it (SSRF)
        browser.fill("#webhook-form", url=inside)
        browser.find("#webhook-form input[value='job.finished']").click()
        browser.find("#webhook-form button[type=submit]").click()
        refusal = api.post(f"/tenants/{tid}/webhooks", {"url": inside, "events": ["job.finished"]})
        assert refusal.status_code == 422
        browser.wait(lambda: browser.find("#webhook-form .error").text == refusal.json()["error"]["message"])
        browser.fill("#webhook-form", url=receiver.url)
        browser.find("#webhook-form button[type=submit]").click()
        secret = browser.find("#webhook-secret-value").text
        [hook] = api.ok("GET", f"/tenants/{tid}/webhooks")["items"]
        assert hook["secret"] == secret and hook["events"] == ["job.finished"] and hook["enabled"]
        receiver.secret = secret
        browser.screenshot("webhook-created")
        browser.go(f"#/t/{tid}/dashboard")
        browser.go(f"#/t/{tid}/webhooks")
        browser.find(f"#webhooks tr[data-webhook='{hook['id']}']")
        assert not browser.all("#webhook-secret") and secret not in browser.text()  # shown once
        browser.find(f"#webhooks tr[data-webhook='{hook['id']}'] button.show-log").click()
        browser.find("#no-deliveries")
        # An event: an import job finishes.
        api.ok("POST", f"/tenants/{tid}/extensions/import", {"rows": [{"number": "150", "name": "Aktarılan"}]},
               status=202)
        browser.find("#deliveries tr[data-event-type='job.finished'][data-status='delivered']", timeout=30)
        assert [r["signed"] for r in receiver.delivered()][:1] == [True]  # signed with the secret the page showed
        browser.screenshot("webhook-deliveries")
        browser.find(f"#webhooks tr[data-webhook='{hook['id']}'] input[type=checkbox]").click()
        browser.wait(lambda: api.ok("GET", f"/tenants/{tid}/webhooks/{hook['id']}")["enabled"] is False)
        browser.find(f"#webhooks tr[data-webhook='{hook['id']}'] button:not(.show-log)").click()
        browser.driver.switch_to.alert.accept()
        browser.find("#no-webhooks")
        assert api.ok("GET", f"/tenants/{tid}/webhooks")["items"] == []
    finally:
        receiver.close()


@pytest.mark.phone
def test_an_agent_clicks_to_call_its_phone_rings_and_the_carrier_gets_the_call(world, browser, desk, carrier):
    tid = world["tenant"]["id"]
    signed_in(browser, world["people"]["agent"])
    browser.go(f"#/t/{tid}/calls")
    before = carrier.incoming_count()
    browser.find("#dial-box input[name=to]").send_keys("0212 555 00 11", Keys.ENTER)
    ringing = desk.wait_incoming(timeout=15)  # the agent's own phone first
    assert "02125550011" in ringing.remote_uri
    assert "101" in browser.find("#dial-status").text
    assert carrier.incoming_count() == before  # nothing dialled out before the agent answers
    ringing.answer()
    far = carrier.wait_incoming(timeout=15)
    assert number_at_carrier(far) == "+902125550011" and world["did"] in far.remote_uri
    far.answer()
    ringing.wait_confirmed(timeout=10)
    far.wait_confirmed(timeout=10)
    browser.screenshot("click-to-call")
    ringing.hangup()
    far.wait_disconnected(timeout=10)
    assert not browser.all("#screen-pop")  # a call the agent placed pops nothing


@pytest.mark.phone
def test_a_carrier_call_pops_the_agents_screen_with_the_crm_contact_before_the_answer(
        stack, world, browser, desk, caller, crm_server):
    tid, api = world["tenant"]["id"], world["api"]
    signed_in(browser, world["people"]["agent"])
    browser.go(f"#/t/{tid}/voicemail")  # any screen
    call = caller.call(f"sip:{world['did']}@127.0.0.1:{stack.sip_port}")
    incoming = desk.wait_incoming(timeout=15)
    pop = browser.find("#screen-pop[data-state='ringing']", timeout=20)  # while the phone still rings
    contact = api.ok("GET", f"/tenants/{tid}/crm/lookup?number={CALLER}")["contact"]
    assert "5321234567" in browser.find("#pop-title").text
    assert browser.find("#pop-contact .contact-name").text == one_line(contact["name"])
    assert browser.find("#pop-contact .contact-company").text == one_line(contact["company"])
    assert "SO-1001" in browser.find("#pop-contact .contact-order").text
    assert browser.find("#pop-contact a.contact-link").get_attribute("href").startswith("https://app.hubspot.com/")
    assert not pop.find_elements("css selector", "img, b, script")  # markup stayed text
    assert browser.driver.execute_script("return document.body.dataset.pwned") is None
    browser.screenshot("screen-pop")
    incoming.answer()
    call.wait_confirmed(timeout=10)
    browser.find("#screen-pop[data-state='answered']", timeout=20)
    call.hangup()
    incoming.wait_disconnected(timeout=10)
    browser.find("#screen-pop[data-state='ended']", timeout=30)
    browser.find("#pop-close").send_keys(Keys.ENTER)
    browser.wait(lambda: not browser.all("#screen-pop"))


@pytest.mark.phone
def test_admin_calls_a_number_from_the_call_history_through_a_chosen_extension(world, browser, desk, carrier):
    tid, api = world["tenant"]["id"], world["api"]
    [placed] = wait_for(lambda: [c for c in api.ok("GET", f"/tenants/{tid}/calls")["items"]
                                 if c["direction"] == "outbound"], timeout=30)
    signed_in(browser, world["people"]["tenant_admin"])
    browser.go(f"#/t/{tid}/calls")
    browser.select("#dial-box select[name=from]", "101")
    browser.find("#call-filter button[type=submit]").click()
    before = carrier.incoming_count()
    browser.find(f"tr[data-call='{placed['id']}'] button.dial").click()
    ringing = desk.wait_incoming(timeout=15)
    assert re.sub(r"\D", "", placed["callee"])[-10:] in ringing.remote_uri
    browser.find("#dial-status")
    browser.screenshot("calls-dial")
    ringing.hangup()  # declined: nothing goes out
    ringing.wait_disconnected(timeout=10)
    assert carrier.incoming_count() == before


def test_english_phone_sized_screens_and_the_plan_gates(stack, world, browser):
    tid = world["tenant"]["id"]
    signed_in(browser, world["people"]["tenant_admin"])
    for screen in ("settings", "crm", "webhooks"):
        browser.go(f"#/t/{tid}/{screen}")
        browser.find("#page-title")
        browser.wait(lambda: not browser.all("[aria-busy]"))
        turkish_texts = shown_texts(browser)
        turkish = catalogue_keys(turkish_texts, "tr")
        browser.find("#lang-switch").click()
        browser.wait(lambda: browser.driver.execute_script("return document.documentElement.lang") == "en")
        english_texts = shown_texts(browser)
        alike = {v for k, v in TR.items() if v == CATALOGUES["en"][k]}
        assert not ((turkish_texts & english_texts) - alike) & set(TR.values()), screen
        assert turkish <= catalogue_keys(english_texts, "en"), sorted(turkish - catalogue_keys(english_texts, "en"))
        browser.find("#lang-switch").click()
        browser.wait(lambda: browser.driver.execute_script("return document.documentElement.lang") == "tr")
    browser.driver.set_window_size(390, 844)
    try:
        for screen in ("settings", "crm", "webhooks", "calls"):
            browser.go(f"#/t/{tid}/{screen}")
            browser.find("#page-title")
            browser.wait(lambda: not browser.all("[aria-busy]"))
            assert browser.driver.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"), screen  # no sideways scrolling
            browser.screenshot(f"{screen}-phone")
    finally:
        browser.driver.set_window_size(1280, 900)
    small, _ = stack.new_tenant("girisimci")
    email = f"admin.settings.{small['id']}@example.com"
    stack.operator.ok("POST", "/users", {"email": email, "name": "Küçük", "role": "tenant_admin",
                                         "tenant_id": small["id"], "password": PASSWORD})
    signed_in(browser, email)
    browser.go(f"#/t/{small['id']}/settings")
    assert browser.find("#settings-form .gate").text == TR["gate.needs"].format(
        feature=TR["feature.recording"], plan=TR["plan.kobi"])
    assert not browser.all("#settings-form input[name=record_calls]")
    browser.go(f"#/t/{small['id']}/crm")
    assert browser.find(".gate").text == TR["gate.needs"].format(feature=TR["feature.crm"], plan=TR["plan.kobi"])
    assert not browser.all("#crm-form")
    browser.screenshot("crm-gate")
