"""The Salesforce connector against the local Salesforce (tests/support/crm_salesforce.py)
over real HTTP: SOSL lookup in every stored form, the account's newest Order, the OAuth
refresh-token flow, Tasks logged once, and hostile text that stays plain data."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from pbx.crm import salesforce
from pbx.crm.errors import ProviderError
from pbx.crm.base import number_forms
from tests.support.crm_calls import call, http  # noqa: F401 (http: a fixture)
from tests.support.crm_salesforce import SalesforceServer

HOSTILE_NAME = 'Ayşe <b>"Yılmaz"</b>\n{FIND} \'; DROP'


@pytest.fixture(scope="module")
async def server():
    server = SalesforceServer()
    await server.start()
    server.anadolu = server.seed_account("Anadolu Gıda A.Ş.", phone="+90 216 555 44 33")
    server.ayse = server.seed_contact("Ayşe Yılmaz", phone="0532 123 45 67", account_id=server.anadolu)
    server.mehmet = server.seed_contact("Mehmet Öz", mobile="+905551112233")
    server.seed_contact("Zeynep Kaya", phone="05441234567", account_id=server.seed_account("Kaya Ltd"))
    server.seed_order(server.anadolu, "00000101", "2026-10-02", 99.9, status="Draft")
    server.seed_order(server.anadolu, "00000107", "2026-11-20", 1250.5)
    server.seed_order(server.anadolu, "00000103", "2026-11-01", 10)
    yield server
    await server.stop()


@pytest.fixture
def connector(server):
    server.problems.clear()
    return salesforce.connect(server.url, server.credentials(access_token=server.issue_token()))


async def test_contact_stored_national_with_spaces_is_found_by_e164(server, connector, http):
    contact = await connector.lookup(http, "+905321234567")
    assert contact.name == "Ayşe Yılmaz" and contact.company == "Anadolu Gıda A.Ş."
    assert contact.url == f"{server.url}/lightning/r/Contact/{server.ayse}/view"
    assert server.searches[-1] == number_forms("+905321234567")
    assert server.problems == []


@pytest.mark.parametrize("number, name", [("+905551112233", "Mehmet Öz"), ("+905441234567", "Zeynep Kaya")])
async def test_contact_stored_as_e164_or_national_is_found(server, connector, http, number, name):
    assert (await connector.lookup(http, number)).name == name
    assert server.problems == []


async def test_number_of_an_account_only_names_the_company(server, connector, http):
    contact = await connector.lookup(http, "+902165554433")
    assert (contact.name, contact.company) == ("Anadolu Gıda A.Ş.", "Anadolu Gıda A.Ş.")
    assert contact.url.endswith(f"/lightning/r/Account/{server.anadolu}/view")
    assert contact.last_order.id == "00000107"


async def test_unknown_number_is_none(server, connector, http):
    searches = len(server.searches)
    assert await connector.lookup(http, "+905009998877") is None
    assert server.searches[-1] == number_forms("+905009998877") and server.problems == []
    for no_number in ("anonymous", "", "9" * 65):  # no request at all
        assert await connector.lookup(http, no_number) is None
    assert len(server.searches) == searches + 1


async def test_last_order_is_the_accounts_newest(server, connector, http):
    order = (await connector.lookup(http, "+905321234567")).last_order
    assert order.as_dict() == {"id": "00000107", "date": "2026-11-20", "total": "1250.50", "status": "Activated"}
    query = server.queries[-1]
    assert (query.sobject, query.where_field, query.where_value) == ("Order", "AccountId", server.anadolu)
    assert query.order_by[0] == ("EffectiveDate", "DESC") and query.limit == 1


async def test_contact_without_account_has_no_company_or_order(server, connector, http):
    queries = len(server.queries)
    contact = await connector.lookup(http, "+905551112233")
    assert (contact.company, contact.last_order) == (None, None)
    assert len(server.queries) == queries  # no Order query without an account


async def test_first_request_takes_a_token_by_the_refresh_token_flow(server, http):
    connector = salesforce.connect(server.url, server.credentials())
    before = server.token_requests
    assert (await connector.lookup(http, "+905321234567")).name == "Ayşe Yılmaz"
    assert server.token_requests == before + 1 and connector.credentials_changed
    assert connector.credentials["access_token"] in server.valid_tokens
    assert connector.credentials["instance_url"] == server.url


async def test_expired_session_is_renewed_once_and_the_request_retried(server, connector, http):
    server.expire_tokens()
    before = server.token_requests
    assert (await connector.lookup(http, "+905321234567")).name == "Ayşe Yılmaz"
    assert server.token_requests == before + 1
    assert connector.credentials_changed and connector.credentials["access_token"] in server.valid_tokens


async def test_concurrent_requests_renew_an_expired_session_once(server, connector, http):
    """With refresh token rotation a second renewal with the old refresh token would fail."""
    server.expire_tokens()
    server.rotate_refresh_tokens = True
    before = server.token_requests
    try:
        found = await asyncio.gather(*(connector.lookup(http, "+905321234567") for _ in range(3)))
    finally:
        server.rotate_refresh_tokens = False
    assert [c.name for c in found] == ["Ayşe Yılmaz"] * 3
    assert server.token_requests == before + 1 and server.problems == []
    assert connector.credentials["refresh_token"] == server.refresh_token


async def test_rotated_refresh_token_is_kept(server, http):
    connector = salesforce.connect(server.url, server.credentials())
    server.rotate_refresh_tokens = True
    try:
        await connector.lookup(http, "+905321234567")
    finally:
        server.rotate_refresh_tokens = False
    assert connector.credentials["refresh_token"] == server.refresh_token


async def test_revoked_refresh_token_fails_with_salesforces_error(server, http):
    creds = server.credentials() | {"refresh_token": "revoked"}
    with pytest.raises(ProviderError) as failure:
        await salesforce.connect(server.url, creds).lookup(http, "+905321234567")
    assert (failure.value.status, failure.value.error_code) == (400, "invalid_grant")
    server.problems.clear()


async def test_failing_salesforce_raises_the_aiohttp_error_callers_handle(server, connector, http):
    server.fail_status = 503
    try:
        with pytest.raises(aiohttp.ClientResponseError) as failure:
            await connector.lookup(http, "+905321234567")
    finally:
        server.fail_status = None
    assert (failure.value.status, failure.value.error_code) == (503, "UNKNOWN_EXCEPTION")


async def test_call_is_logged_as_a_completed_call_task_once(server, connector, http):
    await connector.log_call(http, call(call_id="1764590400.21"))
    await connector.log_call(http, call(call_id="1764590400.21"))  # a retry
    tasks = [t for t in server.tasks if t["CallObject"] == "1764590400.21"]
    assert len(tasks) == 1
    task = tasks[0]
    assert {k: task[k] for k in ("WhoId", "TaskSubtype", "Status", "CallType", "CallDurationInSeconds",
                                 "ActivityDate", "CallDisposition")} == {
        "WhoId": server.ayse, "TaskSubtype": "Call", "Status": "Completed", "CallType": "Inbound",
        "CallDurationInSeconds": 75, "ActivityDate": "2026-12-02", "CallDisposition": "answered"}
    assert task["Subject"] == "Gelen arama +905321234567 (cevaplandı)"
    assert "Dahili: 101" in task["Description"] and "02.12.2026 01:30:00" in task["Description"]
    assert server.problems == []


async def test_outbound_call_to_an_account_number_is_logged_on_the_account(server, connector, http):
    await connector.log_call(http, call(caller="+908501234567", callee="+902165554433", direction="outbound",
                                        call_id="1764590400.22", disposition="NO ANSWER", duration_s=0))
    task = next(t for t in server.tasks if t["CallObject"] == "1764590400.22")
    assert task["WhatId"] == server.anadolu and "WhoId" not in task
    assert (task["CallType"], task["Subject"]) == ("Outbound", "Giden arama +902165554433 (cevapsız)")


async def test_given_contact_ref_is_used_without_a_search(server, connector, http):
    searches = len(server.searches)
    await connector.log_call(http, call(call_id="1764590400.23", contact_ref=server.mehmet))
    assert len(server.searches) == searches
    assert next(t for t in server.tasks if t["CallObject"] == "1764590400.23")["WhoId"] == server.mehmet


async def test_unknown_party_and_internal_calls_are_not_logged(server, connector, http):
    tasks = len(server.tasks)
    await connector.log_call(http, call(caller="+905009998877", call_id="1764590400.24"))
    await connector.log_call(http, call(caller="101", callee="102", direction="internal", call_id="1764590400.25"))
    assert len(server.tasks) == tasks and server.problems == []


@pytest.mark.parametrize("number", ['+90532"} IN ALL FIELDS RETURNING User(Id, Username)', "+90532\\*\n{?}",
                                    "+90532' OR Name != '", "+90532 AND NOT 1 -2 +3 ~4 ^5 :6 [7] |&!"])
async def test_hostile_number_reaches_sosl_as_one_plain_phrase(server, connector, http, number):
    assert await connector.lookup(http, number) is None
    assert server.searches[-1] == number_forms(number)  # decoded by the server exactly as sent
    assert server.problems == []


async def test_hostile_contact_name_is_passed_on_as_plain_data(server, connector, http):
    server.seed_contact(HOSTILE_NAME, phone="+905337770011")
    assert (await connector.lookup(http, "+905337770011")).name == HOSTILE_NAME


async def test_hostile_call_id_stays_inside_the_soql_literal(server, connector, http):
    call_id = "x' OR CallObject != 'y\\' \n"
    await connector.log_call(http, call(call_id=call_id))
    assert server.queries[-1].where_value == call_id
    assert [t["CallObject"] for t in server.tasks].count(call_id) == 1 and server.problems == []


async def test_server_refuses_unescaped_sosl(server, http):
    """The local server is as strict as Salesforce: the hostile tests above would fail on it."""
    headers = {"Authorization": f"Bearer {server.issue_token()}", "Accept": "application/json"}
    url = f"{server.url}/services/data/{server.version}/search/"
    async with http.get(url, params={"q": 'FIND {"+905321234567"} IN PHONE FIELDS RETURNING Contact(Id)'},
                        headers=headers) as response:
        assert response.status == 400
        assert (await response.json())[0]["errorCode"] == "MALFORMED_SEARCH"
    server.problems.clear()


def test_connect_checks_credentials_and_urls():
    with pytest.raises(ValueError, match="client_secret"):
        salesforce.connect(None, {"client_id": "a", "refresh_token": "b"})
    with pytest.raises(ValueError, match="base_url"):
        salesforce.connect("file:///etc/passwd", {"client_id": "a", "client_secret": "s", "refresh_token": "b"})
    connector = salesforce.connect(None, {"client_id": "a", "client_secret": "s", "refresh_token": "b"})
    assert connector.instance_url == salesforce.DEFAULT_BASE_URL


def test_server_runs_in_a_thread_for_synchronous_tests():
    """How the live call tests use it: seeded and read back from a thread without a loop."""
    from tests.support.crm_salesforce import SALESFORCE_PORT

    server = SalesforceServer(port=SALESFORCE_PORT + 10)
    server.start_in_thread()
    try:
        server.seed_contact("Canlı Test", phone="+905320000001")

        async def lookup():
            async with aiohttp.ClientSession() as http:
                return await salesforce.connect(server.url, server.credentials()).lookup(http, "+905320000001")
        assert asyncio.run(lookup()).name == "Canlı Test"
    finally:
        server.stop_in_thread()
    assert server.problems == []
