"""Salesforce, over its REST API: a SOSL search of phone fields finds the caller (a Contact,
else an Account), SOQL finds the account's newest Order, and a finished call becomes a
completed Task with TaskSubtype 'Call'. Access tokens come from the OAuth 2.0 refresh-token
flow; a 401 renews the token once and the request is retried.

Credentials: client_id, client_secret (the connected app's consumer key and secret) and
refresh_token; optional access_token and instance_url (kept after each renewal), login_url
(where tokens are issued, default base_url) and api_version."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import aiohttp

from pbx.crm import activity
from pbx.crm.base import CallLog, Contact, Order, number_forms

PROVIDER = "salesforce"
DEFAULT_BASE_URL = "https://login.salesforce.com"
REQUIRED_CREDENTIALS = ("client_id", "client_secret", "refresh_token")
API_VERSION = "v62.0"

# "FIND {SearchQuery}" reserves these; each must be escaped with a backslash, even inside a
# quoted phrase (SOQL and SOSL Reference). Anything else in a phrase is literal text.
_SOSL_RESERVED = frozenset('?&|!{}[]()^~*:\\"\'+-')
# SOQL string literals: the reference's escape sequences (anything else is literal).
_SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
                 "\b": "\\b", "\f": "\\f"}
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_ACCOUNT_PREFIX = "001"  # an Id's key prefix names its object: 001 Account, 003 Contact, 00Q Lead
_CALL_TYPES = {"inbound": "Inbound", "outbound": "Outbound"}


def sosl_phrase(term: str) -> str:
    return '"' + "".join("\\" + c if c in _SOSL_RESERVED else c for c in term) + '"'


def soql_string(value: str) -> str:
    return "'" + "".join(_SOQL_ESCAPES.get(c, c) for c in value) + "'"


def search_statement(number: str) -> str:
    """One search for every form the number may be stored in."""
    terms = " OR ".join(sosl_phrase(form) for form in number_forms(number))
    return (f"FIND {{{terms}}} IN PHONE FIELDS RETURNING "
            "Contact(Id, Name, AccountId, Account.Name LIMIT 5), Account(Id, Name LIMIT 5)")


@dataclass(frozen=True)
class _Match:
    sobject: str  # Contact | Account
    id: str
    name: str
    company: str | None
    account_id: str | None


def _first_match(records: list) -> _Match | None:
    """A person before a company: the Contact hits, then the Account hits."""
    by_type: dict[str, list[dict]] = {}
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict) and isinstance(record.get("attributes"), dict):
            by_type.setdefault(record["attributes"].get("type"), []).append(record)
    for record in by_type.get("Contact", []):
        if _RECORD_ID.fullmatch(str(record.get("Id"))) and activity.text(record.get("Name")):
            account = record.get("Account") if isinstance(record.get("Account"), dict) else {}
            return _Match("Contact", record["Id"], record["Name"], activity.text(account.get("Name")),
                          record.get("AccountId"))
    for record in by_type.get("Account", []):
        if _RECORD_ID.fullmatch(str(record.get("Id"))) and activity.text(record.get("Name")):
            return _Match("Account", record["Id"], record["Name"], record["Name"], record["Id"])
    return None


class SalesforceConnector:
    provider = PROVIDER

    def __init__(self, login_url: str, credentials: dict) -> None:
        self.login_url = login_url
        self.credentials = dict(credentials)
        self.credentials_changed = False
        version = self.credentials.get("api_version") or API_VERSION
        if not re.fullmatch(r"v\d{2,3}\.\d", version):
            raise ValueError(f"api_version is not like {API_VERSION}: {version!r}")
        self.api = f"/services/data/{version}"
        self._renewing = asyncio.Lock()

    @property
    def instance_url(self) -> str:
        return activity.checked_url(self.credentials.get("instance_url") or self.login_url, "instance_url")

    async def lookup(self, http: aiohttp.ClientSession, number: str) -> Contact | None:
        match = await self._find(http, number)
        if match is None:
            return None
        return Contact(name=match.name, company=match.company,
                       last_order=await self._last_order(http, match.account_id),
                       url=f"{self.instance_url}/lightning/r/{match.sobject}/{match.id}/view")

    async def log_call(self, http: aiohttp.ClientSession, call: CallLog) -> None:
        """Once per call (its id is the Task's CallObject), and only for a known party."""
        number = activity.party_number(call)
        if number is None:
            return
        ref = call.contact_ref if _RECORD_ID.fullmatch(call.contact_ref or "") else None
        if ref is None:
            match = await self._find(http, number)
            ref = match.id if match else None
        if ref is None or await self._already_logged(http, call.call_id):
            return
        await self._call(http, "POST", f"{self.api}/sobjects/Task/", json=_task(call, number, ref))

    async def _find(self, http: aiohttp.ClientSession, number: str) -> _Match | None:
        if not activity.searchable(number):
            return None
        answer = await self._call(http, "GET", f"{self.api}/search/", params={"q": search_statement(number)})
        return _first_match(answer.get("searchRecords"))

    async def _last_order(self, http: aiohttp.ClientSession, account_id) -> Order | None:
        if not _RECORD_ID.fullmatch(str(account_id)):
            return None
        soql = ("SELECT Id, OrderNumber, EffectiveDate, TotalAmount, Status FROM Order "
                f"WHERE AccountId = {soql_string(account_id)} ORDER BY EffectiveDate DESC, CreatedDate DESC LIMIT 1")
        records = (await self._call(http, "GET", f"{self.api}/query/", params={"q": soql})).get("records")
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            return None
        row = records[0]
        return Order(id=activity.text(row.get("OrderNumber")) or str(row.get("Id")),
                     date=activity.text(row.get("EffectiveDate")), total=activity.money(row.get("TotalAmount")),
                     status=activity.text(row.get("Status")))

    async def _already_logged(self, http: aiohttp.ClientSession, call_id: str) -> bool:
        soql = f"SELECT Id FROM Task WHERE CallObject = {soql_string(call_id)} LIMIT 1"
        return bool((await self._call(http, "GET", f"{self.api}/query/", params={"q": soql})).get("records"))

    async def _call(self, http: aiohttp.ClientSession, method: str, path: str, **kwargs) -> dict:
        def send(token: str):  # instance_url read per request: a renewal may move it
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            return http.request(method, self.instance_url + path, headers=headers, **kwargs)
        return await activity.with_bearer(send, self.credentials.get("access_token") or await self._renew(http, None),
                                          lambda refused: self._renew(http, refused), _answer)

    async def _renew(self, http: aiohttp.ClientSession, stale: str | None) -> str:
        """The refresh-token flow. Concurrent requests that met the same expired token renew
        it once (a rotated refresh token is good for one use only)."""
        async with self._renewing:
            current = self.credentials.get("access_token")
            if current and current != stale:
                return current
            login = activity.checked_url(self.credentials.get("login_url") or self.login_url, "login_url")
            form = {"grant_type": "refresh_token", "client_id": self.credentials["client_id"],
                    "client_secret": self.credentials["client_secret"],
                    "refresh_token": self.credentials["refresh_token"]}
            async with http.post(f"{login}/services/oauth2/token", data=form,
                                 headers={"Accept": "application/json"}) as response:
                answer = await _answer(response)
            return self._keep_token(answer)

    def _keep_token(self, answer: dict) -> str:
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValueError("the token endpoint answered without an access_token")
        self.credentials["access_token"] = token
        if answer.get("instance_url"):
            self.credentials["instance_url"] = activity.checked_url(answer["instance_url"], "instance_url")
        if isinstance(answer.get("refresh_token"), str):  # refresh token rotation
            self.credentials["refresh_token"] = answer["refresh_token"]
        self.credentials_changed = True
        return token


def _task(call: CallLog, number: str, ref: str) -> dict:
    party = "WhatId" if ref.startswith(_ACCOUNT_PREFIX) else "WhoId"
    return {party: ref, "Subject": activity.subject(call, number)[:255], "TaskSubtype": "Call",
            "Status": "Completed", "Priority": "Normal",
            "ActivityDate": activity.local_time(call.started_at).date().isoformat(),
            "CallType": _CALL_TYPES.get(call.direction, "Internal"),
            "CallDurationInSeconds": max(0, int(call.duration_s)),
            "CallDisposition": call.disposition.lower()[:255], "CallObject": call.call_id[:255],
            "Description": activity.description(call)}


async def _answer(response: aiohttp.ClientResponse) -> dict:
    # Errors: REST [{"message", "errorCode"}]; OAuth {"error", "error_description"}.
    return await activity.json_answer(
        response, lambda body: body[0].get("errorCode") if isinstance(body, list) else body.get("error"))


def connect(base_url: str | None, credentials: dict) -> SalesforceConnector:
    missing = [key for key in REQUIRED_CREDENTIALS if not isinstance(credentials.get(key), str)
               or not credentials[key]]
    if missing:
        raise ValueError(f"salesforce needs credentials: {', '.join(missing)}")
    return SalesforceConnector(activity.checked_url(base_url or DEFAULT_BASE_URL, "base_url"), credentials)
