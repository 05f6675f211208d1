"""The web panel in a real browser (Debian's headless Chromium via selenium), against the
session's real Asterisk and control plane: a tenant admin signs in, sets up extension 101
from its QR code on a real phone, uploads and plays a prompt, builds an IVR that a carrier
call walks through, plays the call's recording; agents, other tenants, CSRF, sign-out and
the language switch. One browser for the module; screenshots go to tests/artifacts/."""
from __future__ import annotations

import io
import json
import shutil
import time
from datetime import datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image

from pbx.panel import STATIC
from tests.support.audio import dominant_frequency
from tests.support.calls import wait_for
from tests.test_prompts import encode

pytestmark = [pytest.mark.asterisk,
              pytest.mark.skipif(not shutil.which("chromedriver"), reason="scripts/setup --test installs chromium")]

PASSWORD = "Panel-Parola-2026"
DID = "+908505559101"
CATALOGUES = {code: json.loads((STATIC / "i18n" / f"{code}.json").read_text("utf-8")) for code in ("tr", "en")}


@pytest.fixture(scope="module")
def world(stack):
    """A KOBİ tenant that records calls, its admin and an agent on extension 102, and a second tenant;
    extension 101's phone (made by the first test) is removed at the end."""
    tenant, api = stack.new_tenant("kobi", record_calls=True)
    other, _ = stack.new_tenant("kobi")
    api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "Irmak", "voicemail": True})
    people = {}
    for role, extension in (("tenant_admin", None), ("agent", "102")):
        email = f"{role}.{tenant['id']}@example.com"
        body = {"email": email, "name": f"Ayşe {role}", "role": role, "tenant_id": tenant["id"],
                "password": PASSWORD, **({"extension": extension} if extension else {})}
        stack.operator.ok("POST", "/users", body)
        people[role] = email
    world = {"tenant": tenant, "api": api, "other": other, "people": people, "state": {}}
    yield world
    if "desk" in world["state"]:  # pjsua holds 8 accounts for the session, and a left one takes others' calls
        world["state"]["desk"].remove()


def decode_qr(png: bytes) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def parse_sip_uri(uri: str) -> tuple[str, str, str, int]:
    assert uri.startswith("sip:") and uri.endswith(";transport=udp"), uri
    userinfo, _, hostport = uri[4:].removesuffix(";transport=udp").rpartition("@")
    user, _, password = userinfo.partition(":")
    host, _, port = hostport.partition(":")
    return unquote(user), unquote(password), host, int(port)


@pytest.mark.phone
def test_admin_creates_101_and_a_phone_registers_from_its_qr_code(stack, phones, world, browser):
    tid = world["tenant"]["id"]
    browser.sign_in(world["people"]["tenant_admin"], PASSWORD)
    browser.screenshot("dashboard")
    browser.go(f"#/t/{tid}/extensions")
    browser.fill("#extension-form", number="101", name="Çağrı İşık")
    browser.find("#extension-form button[type=submit]").click()
    qr = browser.find("#sip-qr")
    browser.wait(lambda: browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", qr))
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", qr)
    browser.screenshot("extension-created")
    user, password, host, port = parse_sip_uri(decode_qr(qr.screenshot_as_png))
    assert user == browser.find("#sip-username").text and password == browser.find("#sip-password").text
    desk = phones.add_phone(user, password, domain=host, port=port)
    world["state"]["desk"] = desk
    assert desk.wait_registered(timeout=10) == 200
    browser.go(f"#/t/{tid}/dashboard")
    browser.go(f"#/t/{tid}/extensions")  # read again: the status column now says registered
    row = browser.find("tr[data-number='101']")
    browser.wait(lambda: CATALOGUES["tr"]["ext.registered"] in row.text)


def test_admin_uploads_an_mp3_and_plays_it_in_the_page(world, browser, tmp_path):
    tid = world["tenant"]["id"]
    mp3 = tmp_path / "karsilama.mp3"
    mp3.write_bytes(encode("MP3", seconds=3.0, freq=1000.0))
    browser.go(f"#/t/{tid}/prompts")
    browser.fill("#prompt-form", name="Karşılama")
    browser.find("#prompt-form input[type=file]").send_keys(str(mp3))
    browser.find("#prompt-form button[type=submit]").click()
    audio = browser.find("#prompts tr[data-prompt] audio")
    prompt_id = int(browser.find("#prompts tr[data-prompt]").get_attribute("data-prompt"))
    duration = browser.wait(lambda: browser.driver.execute_script(
        "const a = arguments[0]; return a.readyState >= 1 && isFinite(a.duration) ? a.duration : null", audio))
    assert abs(duration - 3.0) < 0.1
    browser.driver.execute_script("arguments[0].play()", audio)
    browser.wait(lambda: browser.driver.execute_script("return arguments[0].currentTime", audio) > 0.2)
    browser.screenshot("prompts")
    world["state"]["prompt_id"] = prompt_id


@pytest.mark.phone
def test_ivr_built_in_the_page_routes_a_carrier_call_to_101_and_the_dashboard_shows_it(
        stack, world, browser, carrier, tmp_path):
    tid, desk = world["tenant"]["id"], world["state"]["desk"]
    browser.go(f"#/t/{tid}/ivrs")
    browser.fill("#ivr-form", name="Ana Menü")
    browser.select("#ivr-form select[name=greeting]", str(world["state"]["prompt_id"]))
    browser.select("#ivr-form select[name='key-1']", "extension:101")
    browser.find("#ivr-form button[type=submit]").click()
    browser.wait(lambda: "1 → " in browser.find("#ivrs").text)
    browser.screenshot("ivr")
    [menu] = world["api"].ok("GET", f"/tenants/{tid}/ivrs")["items"]
    assert menu["options"] == {"1": {"type": "extension", "extension": "101"}}
    stack.operator.ok("POST", f"/tenants/{tid}/numbers", {"number": DID, "destination": {"type": "ivr", "ivr_id": menu["id"]}})
    browser.go(f"#/t/{tid}/dashboard")
    browser.wait(lambda: browser.driver.execute_script("return document.body.dataset.live") == "open")
    world["state"]["since"] = datetime.now(ZoneInfo("Europe/Istanbul")) - timedelta(minutes=1)
    call = carrier.call(f"sip:{DID}@127.0.0.1:{stack.sip_port}")
    call.wait_confirmed(timeout=10)
    call.start_recording(str(tmp_path / "greeting.wav"))
    time.sleep(1.5)
    assert abs(dominant_frequency(call.stop_recording(), skip_seconds=0.5) - 1000.0) < 20
    call.send_dtmf("1")
    incoming = desk.wait_incoming(timeout=10)
    browser.wait(lambda: browser.all("#live-calls tbody tr"), timeout=10)
    assert "101" in browser.find("#live-calls").text
    browser.screenshot("dashboard-live")
    incoming.answer()
    incoming.wait_confirmed()
    time.sleep(1.5)  # something to record
    call.hangup()
    incoming.wait_disconnected()
    browser.wait(lambda: not browser.all("#live-calls tbody tr"), timeout=15)


def test_admin_finds_the_call_by_number_and_time_and_plays_its_recording(world, browser):
    tid, api = world["tenant"]["id"], world["api"]
    [call] = wait_for(lambda: [c for c in api.ok("GET", f"/tenants/{tid}/calls")["items"] if c["recording_id"]],
                      timeout=30)
    log = f"/tenants/{tid}/recordings/{call['recording_id']}/access-log"
    before = len(api.ok("GET", log)["items"])
    browser.go(f"#/t/{tid}/calls")
    browser.find("#call-filter")
    since = world["state"]["since"]
    browser.driver.execute_script(
        "const f = document.querySelector('#call-filter'); f.from.value = arguments[0]; f.to.value = arguments[1];",
        since.strftime("%Y-%m-%dT%H:%M"), (since + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    browser.fill("#call-filter", number=DID.replace("+90", "0"))
    browser.find("#call-filter button[type=submit]").click()
    row = browser.find(f"tr[data-call='{call['id']}']")
    assert since.strftime("%d.%m.%Y") in row.text
    row.find_element("css selector", "button.play").click()
    audio = browser.find(f"tr[data-call='{call['id']}'] audio")
    browser.wait(lambda: browser.driver.execute_script("return arguments[0].readyState", audio) >= 1)
    browser.screenshot("calls")
    entries = wait_for(lambda: (items := api.ok("GET", log)["items"])[before:] and items)
    assert len(entries) > before


def test_an_agent_sees_only_its_own_calls_and_no_other_tenant(world, browser):
    tid = world["tenant"]["id"]
    browser.find("#sign-out").click()
    browser.sign_in(world["people"]["agent"], PASSWORD)
    assert [a.get_attribute("href").split("/")[-1] for a in browser.all("nav a")] == ["dashboard", "calls", "voicemail"]
    browser.go(f"#/t/{tid}/voicemail")
    browser.find("#no-messages")  # its own box, empty
    browser.go(f"#/t/{tid}/calls")
    browser.find("#call-filter button[type=submit]").click()
    browser.find("#no-calls")  # the 101 call is not 102's
    browser.go(f"#/t/{world['other']['id']}/calls")
    browser.find(".not-found")
    assert CATALOGUES["tr"]["notfound.title"] in browser.text()
    browser.screenshot("not-found")


def test_writes_without_the_csrf_token_are_refused_and_sign_out_ends_the_session(world, browser):
    tid = world["tenant"]["id"]
    browser.find("#sign-out").click()
    browser.sign_in(world["people"]["tenant_admin"], PASSWORD)
    assert browser.fetch("POST", f"/api/v1/tenants/{tid}/ring_groups") == 403
    assert browser.fetch("GET", f"/api/v1/tenants/{tid}/extensions") == 200
    browser.find("#sign-out").click()
    browser.find("#sign-in")
    assert browser.fetch("GET", f"/api/v1/tenants/{tid}/extensions") == 401


def shown_texts(browser) -> set[str]:
    """Every visible text node and every accessible label in the page, whole."""
    return set(browser.driver.execute_script(
        "const shown = e => e.getClientRects().length > 0;"
        "return [...document.querySelectorAll('body *')].filter(shown)"
        ".flatMap(e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()))"
        ".concat([...document.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label')))"
        ".filter(Boolean)"))


def catalogue_keys(texts: set[str], code: str) -> set[str]:
    return {key for key, value in CATALOGUES[code].items() if "{" not in value and value in texts}


def test_switching_to_english_changes_every_visible_string(world, browser):
    tid = world["tenant"]["id"]
    browser.sign_in(world["people"]["tenant_admin"], PASSWORD)
    for screen in ("extensions", "dashboard"):
        browser.go(f"#/t/{tid}/{screen}")
        browser.find("#page-title")
        time.sleep(0.5)
        turkish_texts = shown_texts(browser)
        turkish = catalogue_keys(turkish_texts, "tr")
        assert len(turkish) > 10
        browser.find("#lang-switch").click()
        browser.wait(lambda: browser.driver.execute_script("return document.documentElement.lang") == "en")
        time.sleep(0.5)
        english_texts = shown_texts(browser)
        # What stayed the same is data (names, numbers), or a string both languages spell alike.
        alike = {v for k, v in CATALOGUES["tr"].items() if v == CATALOGUES["en"][k]}
        unchanged = (turkish_texts & english_texts) - alike
        assert not unchanged & set(CATALOGUES["tr"].values()), sorted(unchanged)
        assert turkish <= catalogue_keys(english_texts, "en"), sorted(turkish - catalogue_keys(english_texts, "en"))
        browser.screenshot(f"{screen}-en")
        browser.find("#lang-switch").click()  # back to Turkish for the next screen
        browser.wait(lambda: browser.driver.execute_script("return document.documentElement.lang") == "tr")


def test_ring_groups_numbers_and_reports(stack, world, browser):
    tid, api = world["tenant"]["id"], world["api"]
    browser.go(f"#/t/{tid}/ring_groups")
    browser.fill("#ring-group-form", name="Satış")
    for number in ("101", "102"):
        browser.find(f"#ring-group-form input[name=extensions][value='{number}']").click()
    browser.find("#ring-group-form button[type=submit]").click()
    browser.wait(lambda: "101, 102" in browser.find("#ring-groups").text)
    [group] = api.ok("GET", f"/tenants/{tid}/ring_groups")["items"]
    assert group["extensions"] == ["101", "102"] and group["name"] == "Satış"
    browser.go(f"#/t/{tid}/numbers")
    row = f"#numbers tr[data-number='{DID}']"
    browser.select(f"{row} select", f"ring_group:{group['id']}")
    browser.find(f"{row} button[type=submit]").click()
    browser.wait(lambda: "Satış" in browser.find(row).text.split("\n")[0])
    [number] = api.ok("GET", f"/tenants/{tid}/numbers")["items"]
    assert number["destination"] == {"type": "ring_group", "ring_group_id": group["id"]}
    browser.go(f"#/t/{tid}/schedules")
    browser.wait(lambda: len(browser.all("#holidays input:checked")) >= 10)  # Turkey's public holidays, offered
    browser.fill("#schedule-form", name="Mesai")
    browser.find("#schedule-form button[type=submit]").click()
    browser.wait(lambda: "Mesai" in browser.find("#schedules").text)
    [schedule] = api.ok("GET", f"/tenants/{tid}/schedules")["items"]
    assert schedule["weekly"] == [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "18:00"}]
    assert "Cumhuriyet Bayramı" in {h["name"] for h in schedule["holidays"]}
    browser.screenshot("schedules")
    browser.go(f"#/t/{tid}/reports")
    browser.find("#chart-hours")
    assert browser.all("#chart-days rect.answered")
    browser.screenshot("reports")


def test_admin_adds_an_agent_in_the_users_screen(world, browser):
    tid, api = world["tenant"]["id"], world["api"]
    browser.go(f"#/t/{tid}/users")
    browser.fill("#user-form", name="İlknur Işıl", email=f"ilknur.{tid}@example.com", password=PASSWORD)
    browser.select("#user-form select[name=extension]", "101")
    browser.find("#user-form button[type=submit]").click()
    browser.wait(lambda: "İlknur Işıl" in browser.find("#users").text)
    created = [u for u in api.ok("GET", "/users")["items"] if u["email"] == f"ilknur.{tid}@example.com"]
    assert [(u["role"], u["extension"]) for u in created] == [("agent", "101")]
    browser.screenshot("users")


def test_a_feature_the_plan_lacks_names_the_plan_that_has_it(stack, browser):
    small, _ = stack.new_tenant("girisimci")
    email = f"admin.{small['id']}@example.com"
    stack.operator.ok("POST", "/users", {"email": email, "name": "Küçük", "role": "tenant_admin",
                                         "tenant_id": small["id"], "password": PASSWORD})
    browser.find("#sign-out").click()
    browser.sign_in(email, PASSWORD)
    browser.go(f"#/t/{small['id']}/reports")
    gate = browser.find(".gate")
    assert gate.text == CATALOGUES["tr"]["gate.needs"].format(feature=CATALOGUES["tr"]["feature.detailed_reports"],
                                                               plan=CATALOGUES["tr"]["plan.kobi"])
    browser.go(f"#/t/{small['id']}/schedules")
    assert CATALOGUES["tr"]["plan.kobi"] in browser.find(".gate").text
    browser.go(f"#/t/{small['id']}/extensions")
    assert CATALOGUES["tr"]["plan.kobi"] in browser.find("#extension-form .gate").text  # no call recording
    browser.screenshot("plan-gate")


def test_an_operator_sees_tenants_and_trunks_and_opens_a_tenants_panel(stack, world, browser):
    email = f"ops.{world['tenant']['id']}@example.com"
    stack.operator.ok("POST", "/users", {"email": email, "name": "Destek", "role": "operator", "password": PASSWORD})
    browser.find("#sign-out").click()
    browser.sign_in(email, PASSWORD)
    browser.find("#tenants")
    browser.wait(lambda: world["tenant"]["name"] in browser.find("#tenants").text)
    small, _ = stack.new_tenant("girisimci")
    browser.driver.refresh()
    browser.select(f"tr[data-tenant='{small['id']}'] select", "kobi")
    browser.wait(lambda: stack.operator.ok("GET", f"/tenants/{small['id']}")["plan"] == "kobi")
    browser.find(f"tr[data-tenant='{small['id']}'] input[type=checkbox]").click()
    browser.wait(lambda: stack.operator.ok("GET", f"/tenants/{small['id']}")["international_calls"] is True)
    browser.go("#/operator/trunks")
    browser.wait(lambda: "Carrier" in browser.find("#trunks").text)
    browser.screenshot("operator-trunks")
    browser.go("#/operator/tenants")
    browser.find(f"a[href='#/t/{world['tenant']['id']}/dashboard']").click()
    browser.find(".figures[data-loaded]")
    assert world["tenant"]["name"] in browser.find(".tenant").text
