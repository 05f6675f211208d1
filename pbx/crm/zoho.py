"""Zoho CRM v2 with OAuth: `Authorization: Zoho-oauthtoken <access token>`, refreshed
from the refresh token at the accounts server (`POST <accounts_url>/oauth/v2/token`,
grant_type=refresh_token) when there is none yet or the API answers 401.

Lookup: `GET /crm/v2/Contacts/search?criteria=((Phone:equals:..)or(Mobile:equals:..)..)`,
then Leads; Zoho takes at most 10 conditions, so the 5 commonest forms of the number
(E.164, without +, national with 0, without it, spaced national). The last order is
the contact's newest Sales_Orders record (related list). A finished call goes to the
Calls module (`POST /crm/v2/Calls`), on the contact (Who_Id) or lead (What_Id)."""
from __future__ import annotations

from datetime import timezone

import aiohttp

from pbx.crm.activity import money
from pbx.crm.base import CallLog, Contact, Order, number_forms
from pbx.crm.errors import CrmError

PROVIDER = "zoho"
DEFAULT_BASE_URL = "https://www.zohoapis.com"
DEFAULT_ACCOUNTS_URL = "https://accounts.zoho.com"
UI_URL = "https://crm.zoho.com"
# Optional: accounts_url (the data centre's accounts server), access_token (kept when refreshed).
REQUIRED_CREDENTIALS = ("client_id", "client_secret", "refresh_token")
MAX_CONDITIONS = 10
_CALL_RESULT = {"ANSWERED": "Answered", "NO ANSWER": "No answer", "BUSY": "Busy", "FAILED": "Failed"}


def criteria(number: str) -> str:
    forms = number_forms(number)[: MAX_CONDITIONS // 2]
    conditions = [f"({field}:equals:{form})" for form in forms for field in ("Phone", "Mobile")]
    return "(" + "or".join(conditions) + ")"


class Zoho:
    provider = PROVIDER

    def __init__(self, base_url: str, credentials: dict):
        self.base_url, self.credentials = base_url.rstrip("/"), credentials
        self.credentials_changed = False

    async def _refresh(self, http: aiohttp.ClientSession) -> None:
        accounts = (self.credentials.get("accounts_url") or DEFAULT_ACCOUNTS_URL).rstrip("/")
        params = {"refresh_token": self.credentials["refresh_token"], "client_id": self.credentials["client_id"],
                  "client_secret": self.credentials["client_secret"], "grant_type": "refresh_token"}
        async with http.post(accounts + "/oauth/v2/token", params=params) as response:
            answer = await response.json(content_type=None) if response.status == 200 else {}
        if not answer.get("access_token"):
            raise CrmError(f"Zoho token refresh failed: {answer.get('error') or 'no access_token'}")
        self.credentials["access_token"] = answer["access_token"]
        self.credentials_changed = True

    async def _request(self, http: aiohttp.ClientSession, method: str, path: str, **kwargs) -> dict:
        """The JSON answer ({} for Zoho's 204 "no records"), refreshing the token once if needed."""
        for attempt in (1, 2):
            if not self.credentials.get("access_token"):
                await self._refresh(http)
            headers = {"Authorization": f"Zoho-oauthtoken {self.credentials['access_token']}"}
            async with http.request(method, self.base_url + path, headers=headers, **kwargs) as response:
                if response.status == 401 and attempt == 1:
                    self.credentials.pop("access_token", None)
                    continue
                if response.status == 204:
                    return {}
                if response.status not in (200, 201):
                    raise CrmError(f"Zoho {path}: HTTP {response.status}")
                return await response.json(content_type=None)
        raise CrmError("Zoho refused the refreshed token")

    async def _find(self, http: aiohttp.ClientSession, number: str) -> tuple[str, dict] | None:
        for module in ("Contacts", "Leads"):
            answer = await self._request(http, "GET", f"/crm/v2/{module}/search", params={"criteria": criteria(number)})
            if answer.get("data"):
                return module, answer["data"][0]
        return None

    async def _newest_order(self, http: aiohttp.ClientSession, contact_id: str) -> Order | None:
        answer = await self._request(http, "GET", f"/crm/v2/Contacts/{contact_id}/Sales_Orders",
                                     params={"fields": "Subject,Grand_Total,Status,Created_Time", "per_page": "200"})
        orders = answer.get("data") or []
        if not orders:
            return None
        newest = max(orders, key=lambda o: o.get("Created_Time") or "")
        return Order(str(newest["id"]), newest.get("Created_Time"), money(newest.get("Grand_Total")),
                     newest.get("Status"))

    async def lookup(self, http: aiohttp.ClientSession, number: str) -> Contact | None:
        found = await self._find(http, number)
        if found is None:
            return None
        module, record = found
        name = record.get("Full_Name") or " ".join(
            p for p in (record.get("First_Name"), record.get("Last_Name")) if p) or number
        if module == "Contacts":
            company = (record.get("Account_Name") or {}).get("name")
            order = await self._newest_order(http, str(record["id"]))
        else:
            company, order = record.get("Company"), None
        return Contact(name, company or None, order, f"{UI_URL}/crm/tab/{module}/{record['id']}")

    async def log_call(self, http: aiohttp.ClientSession, call: CallLog) -> None:
        outside = call.caller if call.direction == "inbound" else call.callee
        record: dict = {
            "Subject": f"Call {call.direction} ({call.caller or '-'} -> {call.callee or '-'})",
            "Call_Type": "Inbound" if call.direction == "inbound" else "Outbound",
            "Call_Start_Time": call.started_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "Call_Duration": f"{call.duration_s // 60:02d}:{call.duration_s % 60:02d}",
            "Call_Result": _CALL_RESULT.get(call.disposition, "Failed"),
            "Description": f"Extension {call.extension or '-'}"}
        found = await self._find(http, outside) if outside and outside.startswith("+") else None
        if found and found[0] == "Contacts":
            record["Who_Id"] = {"id": str(found[1]["id"])}
        elif found:
            record["What_Id"], record["$se_module"] = {"id": str(found[1]["id"])}, found[0]
        await self._request(http, "POST", "/crm/v2/Calls", json={"data": [record]})


def connect(base_url: str, credentials: dict) -> Zoho:
    return Zoho(base_url, credentials)
