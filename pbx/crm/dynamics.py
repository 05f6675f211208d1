"""Microsoft Dynamics 365 (Dataverse Web API v9.2): one OData query finds the contact by
telephone1 or mobilephone in every form the number may be stored in, with its company
(parentcustomerid_account); the newest salesorder of the contact or its account is the
last order; a finished call becomes a completed phonecall activity regarding the contact.
The token is an OAuth 2.0 client-credentials token from Microsoft Entra ID (Azure AD),
taken again when it expires or a request answers 401.

base_url is the organisation's URL (https://<org>.crm<n>.dynamics.com): there is no public
default. Credentials: tenant_id, client_id, client_secret; optional token_url (default
Entra ID's /{tenant_id}/oauth2/v2.0/token), scope (default <base_url>/.default), and the
kept access_token / access_token_expires_at (unix seconds)."""
from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from datetime import timedelta, timezone

import aiohttp

from pbx.crm import activity
from pbx.crm.base import CallLog, Contact, Order, number_forms
from pbx.crm.errors import ProviderError

PROVIDER = "dynamics"
DEFAULT_BASE_URL = None
REQUIRED_CREDENTIALS = ("tenant_id", "client_id", "client_secret")
API = "/api/data/v9.2"
TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

_GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_TENANT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,252})")  # a GUID or a domain name
_ODATA = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
_FORMATTED = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
_ORDER_STATES = {0: "Active", 1: "Submitted", 2: "Canceled", 3: "Fulfilled", 4: "Invoiced"}
_DUPLICATE_KEY = "0x80040237"  # "Cannot insert duplicate key"
_EXPIRY_MARGIN_S = 60
# Each call's phonecall gets activityid uuid5(_CALLS, call_id): logging a call again makes
# the same id, which Dataverse refuses as a duplicate, so a retried log never doubles.
_CALLS = uuid.UUID("6f1d4f2e-4e0b-5a43-9a51-7d0f3c9b8e21")
_PHONE_FIELDS = ("telephone1", "mobilephone")


def odata_string(value: str) -> str:
    """An OData string literal: in single quotes, a quote inside doubled."""
    return "'" + value.replace("'", "''") + "'"


def phone_filter(number: str) -> str:
    return " or ".join(f"{field} eq {odata_string(form)}"
                       for form in number_forms(number) for field in _PHONE_FIELDS)


def call_activity_id(call_id: str) -> str:
    return str(uuid.uuid5(_CALLS, call_id))


class DynamicsConnector:
    provider = PROVIDER

    def __init__(self, org_url: str, credentials: dict) -> None:
        self.org_url = org_url
        self.credentials = dict(credentials)
        self.credentials_changed = False
        tenant = self.credentials["tenant_id"]
        if not _TENANT.fullmatch(tenant):
            raise ValueError(f"tenant_id is not a directory id or domain: {tenant!r}")
        self.token_url = activity.checked_url(
            self.credentials.get("token_url") or TOKEN_URL.format(tenant=tenant), "token_url")
        self.scope = self.credentials.get("scope") or f"{org_url}/.default"
        self._renewing = asyncio.Lock()

    async def lookup(self, http: aiohttp.ClientSession, number: str) -> Contact | None:
        row = await self._find(http, number)
        if row is None:
            return None
        account = row.get("parentcustomerid_account") if isinstance(row.get("parentcustomerid_account"), dict) else {}
        return Contact(name=row["fullname"], company=activity.text(account.get("name")),
                       last_order=await self._last_order(http, row["contactid"], account.get("accountid")),
                       url=f"{self.org_url}/main.aspx?pagetype=entityrecord&etn=contact&id={row['contactid']}")

    async def log_call(self, http: aiohttp.ClientSession, call: CallLog) -> None:
        """A phonecall regarding the known contact, then set completed; only for a known party."""
        number = activity.party_number(call)
        if number is None:
            return
        contact_id = call.contact_ref if _GUID.fullmatch(call.contact_ref or "") else None
        if contact_id is None:
            row = await self._find(http, number)
            contact_id = row["contactid"] if row else None
        if contact_id is None:
            return
        activity_id = call_activity_id(call.call_id)
        try:
            await self._call(http, "POST", f"{API}/phonecalls", json=_phonecall(call, number, contact_id, activity_id))
        except ProviderError as exc:
            if exc.error_code != _DUPLICATE_KEY:
                raise
        # Completed (statecode 1) as Made (2) or Received (4); If-Match: * so it never upserts.
        state = {"statecode": 1, "statuscode": 4 if call.direction == "inbound" else 2}
        await self._call(http, "PATCH", f"{API}/phonecalls({activity_id})", json=state, headers={"If-Match": "*"})

    async def _find(self, http: aiohttp.ClientSession, number: str) -> dict | None:
        if not activity.searchable(number):
            return None
        params = {"$select": "contactid,fullname", "$expand": "parentcustomerid_account($select=accountid,name)",
                  "$filter": phone_filter(number), "$orderby": "modifiedon desc", "$top": "1"}
        rows = (await self._call(http, "GET", f"{API}/contacts", params=params)).get("value")
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and _GUID.fullmatch(str(row.get("contactid"))) \
                    and activity.text(row.get("fullname")):
                return row
        return None

    async def _last_order(self, http: aiohttp.ClientSession, contact_id: str, account_id) -> Order | None:
        customers = [i for i in (contact_id, account_id) if _GUID.fullmatch(str(i))]
        params = {"$select": "salesorderid,ordernumber,totalamount,statecode,statuscode,createdon",
                  "$filter": " or ".join(f"_customerid_value eq {i}" for i in customers),
                  "$orderby": "createdon desc", "$top": "1"}
        answer = await self._call(http, "GET", f"{API}/salesorders", params=params, headers={"Prefer": _FORMATTED})
        rows = answer.get("value")
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            return None
        row = rows[0]
        status = row.get("statuscode@OData.Community.Display.V1.FormattedValue")
        return Order(id=activity.text(row.get("ordernumber")) or str(row.get("salesorderid")),
                     date=activity.text(row.get("createdon")), total=activity.money(row.get("totalamount")),
                     status=activity.text(status) or _ORDER_STATES.get(row.get("statecode")))

    async def _call(self, http: aiohttp.ClientSession, method: str, path: str, headers: dict | None = None,
                    **kwargs) -> dict:
        def send(token: str):
            sent = {**_ODATA, **(headers or {}), "Authorization": f"Bearer {token}"}
            return http.request(method, self.org_url + path, headers=sent, **kwargs)
        return await activity.with_bearer(send, await self._token(http, None),
                                          lambda refused: self._token(http, refused), _answer)

    async def _token(self, http: aiohttp.ClientSession, stale: str | None) -> str:
        """The kept token while it is fresh and not the one just refused; else a new one
        (taken once when concurrent requests need it)."""
        async with self._renewing:
            current = self.credentials.get("access_token")
            expires_at = self.credentials.get("access_token_expires_at") or 0
            if current and current != stale and time.time() < expires_at:
                return current
            form = {"grant_type": "client_credentials", "client_id": self.credentials["client_id"],
                    "client_secret": self.credentials["client_secret"], "scope": self.scope}
            async with http.post(self.token_url, data=form, headers={"Accept": "application/json"}) as response:
                answer = await _answer(response)
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise ValueError("the token endpoint answered without an access_token")
            lifetime = int(answer.get("expires_in") or 0)
            self.credentials.update(access_token=token,
                                    access_token_expires_at=int(time.time()) + lifetime - _EXPIRY_MARGIN_S)
            self.credentials_changed = True
            return token


def _phonecall(call: CallLog, number: str, contact_id: str, activity_id: str) -> dict:
    outgoing = call.direction == "outbound"
    started = activity.local_time(call.started_at).astimezone(timezone.utc)
    ended = started + timedelta(seconds=max(0, call.duration_s))
    return {"activityid": activity_id, "subject": activity.subject(call, number)[:200],
            "phonenumber": number[:200], "directioncode": outgoing,
            "actualdurationminutes": math.ceil(max(0, call.duration_s) / 60),
            "actualstart": started.isoformat().replace("+00:00", "Z"),
            "actualend": ended.isoformat().replace("+00:00", "Z"),
            "description": activity.description(call),
            "regardingobjectid_contact@odata.bind": f"/contacts({contact_id})",
            # The contact is the call's sender (1) when it called in, its recipient (2) otherwise.
            "phonecall_activity_parties": [{"partyid_contact@odata.bind": f"/contacts({contact_id})",
                                            "participationtypemask": 2 if outgoing else 1}]}


async def _answer(response: aiohttp.ClientResponse) -> dict:
    # Errors: Web API {"error": {"code", "message"}}; Entra ID {"error", "error_description"}.
    def code(body):
        error = body.get("error")
        return error.get("code") if isinstance(error, dict) else error
    return await activity.json_answer(response, code)


def connect(base_url: str | None, credentials: dict) -> DynamicsConnector:
    if not base_url:
        raise ValueError("dynamics needs base_url: the organisation's https://<org>.crm<n>.dynamics.com")
    missing = [key for key in REQUIRED_CREDENTIALS if not isinstance(credentials.get(key), str)
               or not credentials[key]]
    if missing:
        raise ValueError(f"dynamics needs credentials: {', '.join(missing)}")
    return DynamicsConnector(activity.checked_url(base_url, "base_url"), credentials)
