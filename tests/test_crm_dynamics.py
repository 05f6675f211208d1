"""The Dynamics 365 connector against the local Dataverse and Entra ID
(tests/support/crm_dynamics.py) over real HTTP: one OData filter over every stored form,
the newest salesorder, client-credentials tokens taken again on expiry or 401, phonecalls
logged once and completed, and hostile text that stays plain data."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from pbx.crm import dynamics
from pbx.crm.errors import ProviderError
from pbx.crm.base import number_forms
from tests.support.crm_calls import call, http  # noqa: F401 (http: a fixture)
from tests.support.crm_dynamics import DynamicsServer

HOSTILE_NAME = "Ayşe <script>alert('x')</script>\n\"Yılmaz\" ' or 1 eq 1"


@pytest.fixture(scope="module")
async def server():
    server = DynamicsServer()
    await server.start()
    server.anadolu = server.seed_account("Anadolu Gıda A.Ş.")
    server.ayse = server.seed_contact("Ayşe Yılmaz", telephone1="0532 123 45 67", account_id=server.anadolu)
    server.mehmet = server.seed_contact("Mehmet Öz", mobilephone="+905551112233")
    server.zeynep = server.seed_contact("Zeynep Kaya", mobilephone="05441234567")
    server.seed_order(server.anadolu, "ORD-01001", "2026-10-02T09:00:00Z", 99.9, status="Complete")
    server.seed_order(server.anadolu, "ORD-01007", "2026-11-20T14:05:00Z", 1250.5, status="Invoiced")
    server.seed_order(server.zeynep, "ORD-01003", "2026-11-01T10:00:00Z", 10, status="New")
    yield server
    await server.stop()


@pytest.fixture
def connector(server):
    server.problems.clear()
    return dynamics.connect(server.url, server.credentials(access_token=server.issue_token()))


def phone_clauses(number: str) -> list[tuple[str, str]]:
    return [(field, form) for form in number_forms(number) for field in ("telephone1", "mobilephone")]


async def test_contact_stored_national_with_spaces_is_found_by_e164(server, connector, http):
    contact = await connector.lookup(http, "+905321234567")
    assert (contact.name, contact.company) == ("Ayşe Yılmaz", "Anadolu Gıda A.Ş.")
    assert contact.url == f"{server.url}/main.aspx?pagetype=entityrecord&etn=contact&id={server.ayse}"
    assert server.searches[-2] == phone_clauses("+905321234567")  # one filter, every form, both fields
    assert server.problems == []


@pytest.mark.parametrize("number, name", [("+905551112233", "Mehmet Öz"), ("+905441234567", "Zeynep Kaya")])
async def test_contact_stored_as_e164_or_national_is_found(server, connector, http, number, name):
    assert (await connector.lookup(http, number)).name == name
    assert server.problems == []


async def test_unknown_number_is_none(server, connector, http):
    searches = len(server.searches)
    assert await connector.lookup(http, "+905009998877") is None
    for no_number in ("anonymous", "", "9" * 65):  # no request at all
        assert await connector.lookup(http, no_number) is None
    assert len(server.searches) == searches + 1 and server.problems == []


async def test_last_order_is_the_newest_of_the_contact_or_its_account(server, connector, http):
    order = (await connector.lookup(http, "+905321234567")).last_order
    assert order.as_dict() == {"id": "ORD-01007", "date": "2026-11-20T14:05:00Z", "total": "1250.50",
                               "status": "Invoiced"}
    assert server.searches[-1] == [("_customerid_value", server.ayse), ("_customerid_value", server.anadolu)]
    # An order placed by the contact itself (no account) counts too.
    assert (await connector.lookup(http, "+905441234567")).last_order.id == "ORD-01003"
    assert (await connector.lookup(http, "+905551112233")).last_order is None


async def test_every_request_carries_the_odata_headers(server, connector, http):
    await connector.lookup(http, "+905321234567")
    api = [r for r in server.requests[-2:]]
    assert all(r["headers"]["OData-Version"] == "4.0" and r["headers"]["OData-MaxVersion"] == "4.0"
               and r["headers"]["Accept"] == "application/json" for r in api)
    assert "FormattedValue" in api[-1]["headers"]["Prefer"]


async def test_first_request_takes_a_client_credentials_token(server, http):
    connector = dynamics.connect(server.url, server.credentials())
    before = server.token_requests
    assert (await connector.lookup(http, "+905321234567")).name == "Ayşe Yılmaz"
    assert server.token_requests == before + 1 and connector.credentials_changed
    assert connector.credentials["access_token"] in server.valid_tokens
    assert connector.credentials["access_token_expires_at"] > time.time() + 3000


async def test_token_past_its_expiry_is_replaced_before_use(server, http):
    stale = server.issue_token()
    connector = dynamics.connect(server.url, server.credentials(access_token=stale, expires_at=int(time.time()) - 1))
    requests = len(server.requests)
    await connector.lookup(http, "+905551112233")
    sent = [r["headers"].get("Authorization") for r in server.requests[requests:] if "/api/" in r["path"]]
    assert f"Bearer {stale}" not in sent and connector.credentials["access_token"] != stale


async def test_refused_token_is_taken_again_once_and_the_request_retried(server, connector, http):
    server.expire_tokens()
    before = server.token_requests
    assert (await connector.lookup(http, "+905321234567")).name == "Ayşe Yılmaz"
    assert server.token_requests == before + 1 and connector.credentials_changed


async def test_concurrent_requests_take_one_new_token(server, connector, http):
    server.expire_tokens()
    before = server.token_requests
    found = await asyncio.gather(*(connector.lookup(http, "+905551112233") for _ in range(3)))
    assert [c.name for c in found] == ["Mehmet Öz"] * 3 and server.token_requests == before + 1


async def test_wrong_client_secret_fails_with_entra_ids_error(server, http):
    creds = server.credentials() | {"client_secret": "wrong"}
    with pytest.raises(ProviderError) as failure:
        await dynamics.connect(server.url, creds).lookup(http, "+905321234567")
    assert (failure.value.status, failure.value.error_code) == (401, "invalid_client")
    server.problems.clear()


async def test_call_is_logged_as_a_completed_phonecall_once(server, connector, http):
    await connector.log_call(http, call(call_id="1764590400.41"))
    await connector.log_call(http, call(call_id="1764590400.41"))  # a retry: the same activityid
    calls = [c for c in server.phonecalls if c["activityid"] == dynamics.call_activity_id("1764590400.41")]
    assert len(calls) == 1
    logged = calls[0]
    assert logged["regardingobjectid_contact@odata.bind"] == f"/contacts({server.ayse})"
    assert logged["phonecall_activity_parties"] == [
        {"partyid_contact@odata.bind": f"/contacts({server.ayse})", "participationtypemask": 1}]
    assert {k: logged[k] for k in ("subject", "phonenumber", "directioncode", "actualdurationminutes",
                                   "actualstart", "actualend", "statecode", "statuscode")} == {
        "subject": "Gelen arama +905321234567 (cevaplandı)", "phonenumber": "+905321234567",
        "directioncode": False, "actualdurationminutes": 2, "actualstart": "2026-12-01T22:30:00Z",
        "actualend": "2026-12-01T22:31:15Z", "statecode": 1, "statuscode": 4}
    assert "Dahili: 101" in logged["description"]
    assert server.problems == []


async def test_outbound_call_is_made_by_the_pbx_side(server, connector, http):
    await connector.log_call(http, call(caller="+908501234567", callee="+905551112233", direction="outbound",
                                        call_id="1764590400.42", disposition="NO ANSWER", duration_s=0))
    logged = next(c for c in server.phonecalls if c["phonenumber"] == "+905551112233")
    assert (logged["directioncode"], logged["statuscode"], logged["actualdurationminutes"]) == (True, 2, 0)
    assert logged["phonecall_activity_parties"][0]["participationtypemask"] == 2
    assert logged["subject"] == "Giden arama +905551112233 (cevapsız)"


async def test_unknown_party_and_internal_calls_are_not_logged(server, connector, http):
    logged = len(server.phonecalls)
    await connector.log_call(http, call(caller="+905009998877", call_id="1764590400.43"))
    await connector.log_call(http, call(caller="101", callee="102", direction="internal", call_id="1764590400.44"))
    assert len(server.phonecalls) == logged and server.problems == []


@pytest.mark.parametrize("number", ["+90532' or fullname ne 'x", "+90532'' or 1 eq 1) or ('",
                                    "+90532\n$filter=x&$top=999#", "+90532%27 or '1'"])
async def test_hostile_number_reaches_the_filter_as_plain_literals(server, connector, http, number):
    assert await connector.lookup(http, number) is None
    assert server.searches[-1] == phone_clauses(number)  # decoded by the server exactly as sent
    assert server.problems == []


async def test_hostile_contact_name_is_passed_on_as_plain_data(server, connector, http):
    server.seed_contact(HOSTILE_NAME, telephone1="+905337770011")
    assert (await connector.lookup(http, "+905337770011")).name == HOSTILE_NAME


async def test_server_refuses_an_unescaped_quote(server, http):
    """The local server is as strict as Dataverse: the hostile tests above would fail on it."""
    headers = {"Authorization": f"Bearer {server.issue_token()}", "Accept": "application/json",
               "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
    async with http.get(f"{server.url}/api/data/v9.2/contacts", headers=headers,
                        params={"$filter": "telephone1 eq 'O'Brien'"}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "0x80060888"
    server.problems.clear()


def test_connect_needs_the_organisation_url_and_safe_credentials():
    creds = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "c", "client_secret": "s"}
    with pytest.raises(ValueError, match="base_url"):
        dynamics.connect(None, creds)
    with pytest.raises(ValueError, match="client_secret"):
        dynamics.connect("https://contoso.crm4.dynamics.com", {"tenant_id": "t", "client_id": "c"})
    with pytest.raises(ValueError, match="tenant_id"):
        dynamics.connect("https://contoso.crm4.dynamics.com", creds | {"tenant_id": "../evil/x?"})
    connector = dynamics.connect("https://contoso.crm4.dynamics.com", creds)
    assert connector.token_url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    assert connector.scope == "https://contoso.crm4.dynamics.com/.default"


def test_server_runs_in_a_thread_for_synchronous_tests():
    """How the live call tests use it: seeded and read back from a thread without a loop."""
    from tests.support.crm_dynamics import DYNAMICS_PORT

    with DynamicsServer(port=DYNAMICS_PORT + 10) as server:
        server.seed_contact("Canlı Test", mobilephone="+905320000001")

        async def lookup():
            async with aiohttp.ClientSession() as http:
                return await dynamics.connect(server.url, server.credentials()).lookup(http, "+905320000001")
        assert asyncio.run(lookup()).name == "Canlı Test"
    assert server.problems == []
