"""Issue 15, "People, not just tokens", against the real control plane: users with roles,
sign-in by cookie (HttpOnly, SameSite=Lax, Secure behind https) with CSRF on writes,
sign-out, throttling, an operator's password reset, tenants apart, hostile input."""
from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from tests.support.calls import answered_call, registered_extensions, wait_for
from tests.support.events import EventStream
from tests.support.panel import COOKIE, Browser, CookieStream
from tests.support.stack import settings_env

pytestmark = [pytest.mark.asterisk]

PASSWORD = "Şifre-güçlü-2026"
_addresses = (f"127.0.20.{n}" for n in itertools.count(1))  # each browser its own source address
_emails = (f"kisi{n}@ornek.com.tr" for n in itertools.count(1))


def browser(stack) -> Browser:
    return Browser(stack.operator.base, next(_addresses))


def new_user(stack, api, role: str = "tenant_admin", **fields) -> dict:
    body = {"email": next(_emails), "name": "Ayşe Yılmaz", "role": role, "password": PASSWORD, **fields}
    return api.ok("POST", "/users", body)


def signed_in(stack, user: dict, password: str = PASSWORD) -> Browser:
    b = browser(stack)
    assert b.sign_in(user["email"], password).status_code == 200
    return b


def test_sign_in_cookie_is_accepted_as_a_token_with_csrf_on_writes_and_sign_out_ends_it(stack):
    tenant, _ = stack.new_tenant()
    admin = new_user(stack, stack.operator, tenant_id=tenant["id"])
    assert admin["role"] == "tenant_admin" and admin["tenant_id"] == tenant["id"] and PASSWORD not in str(admin)
    assert not {"password", "password_hash"} & set(admin)
    b = browser(stack)
    answer = b.sign_in(admin["email"].upper(), PASSWORD)  # the address's case does not matter
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # plain http here; see the https test
    body = answer.json()
    assert (body["via"], body["role"], body["tenant_id"], body["user"]["id"]) == ("session", "tenant_admin",
                                                                                 tenant["id"], admin["id"])
    assert b.ok("GET", "/session") == body
    exts = f"/tenants/{tenant['id']}/extensions"
    assert b.ok("GET", exts)["items"] == []

    refused = b.post(exts, {"number": "101", "name": "Resepsiyon"}, csrf=False)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    wrong = b.post(exts, {"number": "101", "name": "Resepsiyon"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert b.delete("/session", csrf=False).status_code == 403  # not even a forced sign-out
    assert b.ok("GET", exts)["items"] == []  # nothing was written
    b.ok("POST", exts, {"number": "101", "name": "Resepsiyon"})
    assert [e["number"] for e in b.ok("GET", exts)["items"]] == ["101"]

    stream = CookieStream(b, tenant["id"])
    assert stream.status == 101  # the panel's live feed, on the cookie alone
    token = b.cookie
    stored = stack.sql("SELECT token_hash FROM web_sessions WHERE user_id = :u", u=admin["id"])
    assert len(stored) == 1 and token not in stored[0][0]  # only a digest is kept
    out = b.delete("/session")
    assert out.status_code == 204 and "Max-Age=0" in out.headers["Set-Cookie"]  # the browser drops it
    assert stack.sql("SELECT count(*) FROM web_sessions WHERE user_id = :u", u=admin["id"]) == [(0,)]
    try:
        assert stream.wait_closed(timeout=30) == 4001  # an open stream ends with its session
    finally:
        stream.close()
    replayed = b.get(exts, cookies={COOKIE: token})  # a copy of the old cookie names nothing now
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "unauthorized"
    log = stack.control.log_path.read_text(errors="replace")
    assert token not in log and PASSWORD not in log and f"user:{admin['id']}" in log


def test_behind_an_https_proxy_the_cookie_is_secure(stack):
    tenant, _ = stack.new_tenant()
    admin = new_user(stack, stack.operator, tenant_id=tenant["id"])
    answer = browser(stack).sign_in(admin["email"], PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert answer.status_code == 200 and "Secure" in answer.headers["Set-Cookie"]


def test_wrong_password_is_401_and_failures_are_throttled_per_account_and_per_address(stack):
    tenant, _ = stack.new_tenant()
    admin = new_user(stack, stack.operator, tenant_id=tenant["id"])
    b = browser(stack)
    statuses = [b.sign_in(admin["email"], f"yanlis-{i}").status_code for i in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429 and set(statuses) == {401, 429}, statuses
    nobody = browser(stack).sign_in("kimse@ornek.com.tr", "x")
    assert nobody.status_code == 401 and nobody.json()["error"]["code"] == "unauthorized"  # names no account
    late = browser(stack).sign_in(admin["email"], PASSWORD)  # the right password, from elsewhere: still waits
    assert late.status_code == 429 and int(late.headers["Retry-After"]) >= 1
    other = new_user(stack, stack.operator, tenant_id=tenant["id"])
    guesser = browser(stack)
    assert {guesser.sign_in(next(_emails), "x").status_code for _ in range(20)} == {401}
    assert guesser.sign_in(other["email"], PASSWORD).status_code == 429  # this address waits now
    assert stack.operator.get("/tenants").status_code == 200  # tokens are counted apart
    assert signed_in(stack, other).ok("GET", "/session")["user"]["id"] == other["id"]


def test_a_tenant_admin_manages_its_own_users_only_and_the_operator_resets_passwords(stack):
    tenant, tenant_api = stack.new_tenant()
    other, _ = stack.new_tenant()
    admin = new_user(stack, stack.operator, tenant_id=tenant["id"])
    peer = new_user(stack, stack.operator, tenant_id=tenant["id"])
    stranger = new_user(stack, stack.operator, tenant_id=other["id"])
    b = signed_in(stack, admin)
    b.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ext 101"})
    agent = b.ok("POST", "/users", {"email": next(_emails), "name": "Mehmet Öz", "role": "agent",
                                    "extension": "101", "password": PASSWORD})
    assert (agent["tenant_id"], agent["extension"], agent["role"]) == (tenant["id"], "101", "agent")
    listed = {u["id"] for u in b.ok("GET", "/users")["items"]}
    assert listed == {admin["id"], peer["id"], agent["id"]}
    assert {u["id"] for u in tenant_api.ok("GET", "/users")["items"]} == listed  # the tenant's token alike
    for method, path in (("GET", f"/users/{stranger['id']}"), ("PATCH", f"/users/{stranger['id']}"),
                         ("DELETE", f"/users/{stranger['id']}"), ("GET", f"/users?tenant_id={other['id']}")):
        response = b.request(method, path, json={"name": "X"})
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", (method, path)
    assert b.post("/users", {"email": next(_emails), "name": "X", "role": "tenant_admin",
                             "tenant_id": other["id"], "password": PASSWORD}).status_code == 404
    assert b.post("/users", {"email": next(_emails), "name": "X", "role": "operator",
                             "password": PASSWORD}).status_code == 403
    assert b.post("/users", {"email": admin["email"], "name": "X", "role": "agent", "extension": "101",
                             "password": PASSWORD}).status_code == 409
    assert b.patch(f"/users/{peer['id']}", {"password": "yeni-parola-123"}).status_code == 403
    assert stack.sql("SELECT count(*) FROM users WHERE tenant_id = :t", t=other["id"]) == [(1,)]

    peer_browser = signed_in(stack, peer)
    reset = stack.operator.ok("PATCH", f"/users/{peer['id']}", {"password": "yeni-parola-123"})
    assert reset["password_changed_at"] >= peer["password_changed_at"]
    assert peer_browser.get("/session").status_code == 401  # the reset ended the session
    assert browser(stack).sign_in(peer["email"], PASSWORD).status_code == 401
    assert browser(stack).sign_in(peer["email"], "yeni-parola-123").status_code == 200
    b.ok("PATCH", f"/users/{agent['id']}", {"password": "ajan-parola-9"})  # an admin resets its agents'
    b.ok("DELETE", f"/users/{peer['id']}", status=204)
    assert stack.sql("SELECT count(*) FROM web_sessions WHERE user_id = :u", u=peer["id"]) == [(0,)]
    assert b.get(f"/users/{peer['id']}").status_code == 404
    stranger_browser = signed_in(stack, stranger)
    stack.operator.ok("DELETE", f"/tenants/{other['id']}", status=204)  # its people and sessions go with it
    assert stranger_browser.get("/session").status_code == 401
    assert stack.sql("SELECT count(*) FROM users WHERE id = :u", u=stranger["id"]) == [(0,)]


def test_hostile_or_malformed_users_are_422_and_change_nothing(stack):
    tenant, _ = stack.new_tenant()
    stack.operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "101", "name": "Ext 101"})
    good = {"email": "iyi@ornek.com.tr", "name": "Ayşe", "role": "agent", "tenant_id": tenant["id"],
            "extension": "101", "password": PASSWORD}
    bad = [{"name": "Ayşe\u202eexe.txt"}, {"name": "Ay\nşe"}, {"name": "Ay\x00şe"}, {"name": "\u200b"},
           {"name": "x" * 101}, {"email": "a" * 250 + "@x.com"}, {"email": "not an address"},
           {"email": "a@b.com\r\nBcc: x@y.com"}, {"password": "kısa"}, {"password": "p" * 257},
           {"role": "root"}, {"role": 5}, {"tenant_id": str(tenant["id"])}, {"tenant_id": True},
           {"extension": 101}, {"extension": "101;x"}, {"extension": "999"}, {"is_admin": True},
           {"role": "tenant_admin"},  # an extension is an agent's only
           {"role": "operator"}]  # an operator belongs to no tenant
    before = stack.sql("SELECT count(*) FROM users")
    for change in bad:
        response = stack.operator.post("/users", {**good, **change})
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["code"] == "invalid"
    for raw in ("[]", "{", '"x"', "null"):
        assert stack.operator.post("/users", data=raw).status_code == 422
    assert stack.sql("SELECT count(*) FROM users") == before
    user = stack.operator.ok("POST", "/users", good)
    for change in ({"name": "\u2066x"}, {"role": "operator"}, {"extension": "0"}, {"password": 123},
                   {"tenant_id": tenant["id"]}, {"role": "tenant_admin", "extension": "101"}):
        assert stack.operator.patch(f"/users/{user['id']}", change).status_code == 422, change
    assert stack.operator.ok("GET", f"/users/{user['id']}") == user
    for body in ({"email": "x@y.com"}, {"email": 5, "password": "x"}, {"email": "x@y.com", "password": ""}):
        assert browser(stack).request("POST", "/session", json=body).status_code == 422, body
    form = browser(stack).request("POST", "/session", data='{"email":"iyi@ornek.com.tr","password":"x"}',
                                  headers={"Content-Type": "text/plain"})
    assert form.status_code == 415  # what a cross-site HTML form could send
    huge = browser(stack).request("POST", "/session", data="{" + " " * 70_000 + "}",
                                  headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    for cookie in ("x" * 3000, "", "a;b", "\u00e7"):
        forged = browser(stack).get("/session", cookies={COOKIE: cookie})
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "unauthorized", cookie
    undecodable = browser(stack).get("/session", headers={"Authorization": "Bearer \u00e7"})
    assert undecodable.status_code == 401  # not UTF-8 on the wire: a token like no other, not a 500
    me = stack.operator.ok("GET", "/session")  # a token is somebody too, without a user
    assert (me["via"], me["role"], me["user"], me["csrf_token"]) == ("token", "operator", None, None)


def _involves(number: str):
    return lambda e: number in (e["data"].get("extension"), e["data"].get("caller"), e["data"].get("callee"))


def test_an_agent_sees_only_its_own_extensions_calls_and_events_and_writes_no_configuration(stack, phones):
    tenant, api = stack.new_tenant()
    other, _ = stack.new_tenant()
    p101, p102, p103 = registered_extensions(stack, phones, api, tenant["id"], numbers=("101", "102", "103"))
    exts = {e["number"]: e for e in api.ok("GET", f"/tenants/{tenant['id']}/extensions")["items"]}
    agent = new_user(stack, api, "agent", extension="101")  # the tenant's token makes users too
    b = signed_in(stack, agent)
    assert (b.signed_in["role"], b.signed_in["extension"], b.signed_in["extension_id"]) == (
        "agent", "101", exts["101"]["id"])
    stream = CookieStream(b, tenant["id"], query="extension=102")  # asks for 102's: gets its own all the same
    foreign = CookieStream(b, tenant["id"], origin="http://kotu.example")
    admin_stream = EventStream(stack.operator.base, tenant["id"], api.token)
    calls = f"/tenants/{tenant['id']}/calls"
    try:
        assert (stream.status, foreign.status, admin_stream.status) == (101, 403, 101)
        answered_call(p101, p102, "102")
        answered_call(p103, p102, "102")
        assert admin_stream.wait_for(lambda e: e["type"] == "call.ended" and e["data"].get("caller") == "103",
                                     timeout=60), admin_stream.events
        assert len(wait_for(lambda: len(api.ok("GET", calls)["items"]) == 2 and api.ok("GET", calls)["items"],
                            timeout=60)) == 2
        own = b.ok("GET", calls)["items"]
        assert [(c["caller"], c["callee"]) for c in own] == [("101", "102")], own
        assert b.ok("GET", calls + "?number=103")["items"] == []  # a filter narrows, never widens
        assert stream.wait_for(lambda e: e["type"] == "call.ended"), stream.events
        assert stream.events and all(_involves("101")(e) for e in stream.events), stream.events
    finally:
        for closing in (stream, foreign, admin_stream, p101, p102, p103):
            closing.close() if hasattr(closing, "close") else closing.remove()

    base = f"/tenants/{tenant['id']}"
    own_ext, their_ext = f"{base}/extensions/{exts['101']['id']}", f"{base}/extensions/{exts['102']['id']}"
    assert b.ok("GET", own_ext)["number"] == "101"
    assert b.ok("GET", own_ext + "/voicemail")["items"] == []
    for method, path, status in (("GET", f"{base}/extensions", 403), ("POST", f"{base}/extensions", 403),
                                 ("PATCH", own_ext, 403), ("DELETE", own_ext, 403), ("GET", f"{base}/ivrs", 403),
                                 ("GET", f"{base}/recordings", 200), ("GET", f"{base}/reports/basic", 403),
                                 ("GET", "/users", 403), ("POST", "/users", 403), ("GET", "/trunks", 403),
                                 ("GET", their_ext, 404), ("GET", their_ext + "/voicemail", 404),
                                 ("GET", f"/tenants/{other['id']}/calls", 404),
                                 ("GET", f"/tenants/{other['id']}", 404)):
        response = b.request(method, path, json={"number": "104", "name": "X"})
        assert response.status_code == status, (method, path, response.text)
    assert b.ok("PATCH", f"/users/{agent['id']}", {"name": "Mehmet Öz"})["name"] == "Mehmet Öz"
    assert b.patch(f"/users/{agent['id']}", {"extension": "102"}).status_code == 403
    assert b.patch(f"/users/{agent['id']}", {"role": "tenant_admin"}).status_code == 403
    assert [e["number"] for e in api.ok("GET", f"{base}/extensions")["items"]] == ["101", "102", "103"]

    api.ok("DELETE", own_ext, status=204)  # its extension gone: the agent sees nothing rather than everything
    assert b.get(calls).status_code == 403
    assert b.ok("GET", "/session")["extension"] is None
    api.ok("PATCH", f"/users/{agent['id']}", {"role": "tenant_admin"})  # applies to its next request
    assert b.ok("GET", f"{base}/extensions")["items"] and b.ok("GET", "/session")["role"] == "tenant_admin"


def _cli(stack, *args: str, password: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pbx", "users", "create", *args, "--password-stdin"],
                          input=password + "\n", env=settings_env(stack.settings), capture_output=True, text=True,
                          timeout=60)


def test_the_first_operator_is_made_on_the_command_line_and_signs_in(stack):
    email = next(_emails)
    made = _cli(stack, "--email", email, "--name", "Platform Ekibi", password=PASSWORD)
    assert made.returncode == 0, made.stderr
    user_id = int(made.stdout.strip())
    b = signed_in(stack, {"email": email})
    assert (b.signed_in["role"], b.signed_in["tenant_id"], b.signed_in["user"]["id"]) == ("operator", None, user_id)
    b.ok("POST", "/tenants", {"name": "Çağrı Ltd", "plan": "kobi"})  # an operator's session does all
    assert any(u["id"] == user_id for u in b.ok("GET", "/users")["items"])
    before = stack.sql("SELECT count(*) FROM users")
    for args, password in ((("--email", next(_emails), "--name", "Kötü\u202eisim"), PASSWORD),
                           (("--email", email, "--name", "İkinci"), PASSWORD)):  # taken: the API's checks
        refused = _cli(stack, *args, password=password)
        assert refused.returncode == 1 and refused.stderr and not refused.stdout, args
    assert stack.sql("SELECT count(*) FROM users") == before


def test_an_agent_hears_its_own_voicemail_and_no_one_elses(stack, phones):
    from tests.test_voicemail import leave_message, messages

    tenant, api = stack.new_tenant()
    away = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "102", "name": "Uzakta", "voicemail": True})
    me = api.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": "103", "name": "Ben"})
    phone = phones.add_phone(me["sip"]["username"], me["sip"]["password"], port=stack.sip_port)
    try:
        assert phone.wait_registered() == 200
        leave_message(phone.call("102"), seconds=1.0)
    finally:
        phone.remove()
    [message] = messages(api, tenant["id"], away["id"], 1)
    box = f"/tenants/{tenant['id']}/extensions/{away['id']}/voicemail"
    owner = signed_in(stack, new_user(stack, api, "agent", extension="102"))
    colleague = signed_in(stack, new_user(stack, api, "agent", extension="103"))
    assert [m["id"] for m in owner.ok("GET", box)["items"]] == [message["id"]]
    audio = owner.get(f"{box}/{message['id']}/audio")
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav" and audio.content[:4] == b"RIFF"
    for method, path in (("GET", box), ("GET", f"{box}/{message['id']}/audio"), ("DELETE", f"{box}/{message['id']}")):
        assert colleague.request(method, path).status_code == 404, (method, path)
    assert owner.delete(f"{box}/{message['id']}", csrf=False).status_code == 403
    owner.ok("DELETE", f"{box}/{message['id']}", status=204)
    assert api.ok("GET", box)["items"] == []
