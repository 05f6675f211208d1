"""HubSpot CRM v3 with a private app's access token (Bearer).

Lookup: `POST /crm/v3/objects/contacts/search`, the caller's number in every form
(base.number_forms) against `phone` and `mobilephone` (two filter groups, ORed, each
an IN); the last order is the newest associated deal (`POST /crm/v3/objects/deals/search`
on `associations.contact`, newest `createdate` first). A finished call becomes a call
engagement, `POST /crm/v3/objects/calls`, associated with the contact (type 194)."""
from __future__ import annotations

import aiohttp

from pbx.crm.activity import money
from pbx.crm.base import CallLog, Contact, Order, number_forms
from pbx.crm.errors import CrmError

PROVIDER = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
REQUIRED_CREDENTIALS = ("access_token",)  # optional: portal_id, for the contact's link in HubSpot's UI
CALL_TO_CONTACT = 194  # HubSpot-defined association type: call -> contact
_PROPERTIES = ["firstname", "lastname", "company", "phone", "mobilephone"]
_STATUS = {"ANSWERED": "COMPLETED", "NO ANSWER": "NO_ANSWER", "BUSY": "BUSY", "FAILED": "FAILED"}


class HubSpot:
    provider = PROVIDER

    def __init__(self, base_url: str, credentials: dict):
        self.base_url, self.credentials = base_url.rstrip("/"), credentials
        self.credentials_changed = False

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.credentials['access_token']}", "Content-Type": "application/json"}

    async def _post(self, http: aiohttp.ClientSession, path: str, body: dict) -> dict:
        async with http.post(self.base_url + path, json=body, headers=self._headers()) as response:
            if response.status not in (200, 201):
                raise CrmError(f"HubSpot {path}: HTTP {response.status}")
            return await response.json()

    async def _find(self, http: aiohttp.ClientSession, number: str) -> dict | None:
        forms = number_forms(number)
        body = {"filterGroups": [{"filters": [{"propertyName": name, "operator": "IN", "values": forms}]}
                                 for name in ("phone", "mobilephone")],
                "properties": _PROPERTIES, "limit": 1}
        results = (await self._post(http, "/crm/v3/objects/contacts/search", body)).get("results") or []
        return results[0] if results else None

    async def _newest_deal(self, http: aiohttp.ClientSession, contact_id: str) -> Order | None:
        body = {"filterGroups": [{"filters": [{"propertyName": "associations.contact", "operator": "EQ",
                                               "value": contact_id}]}],
                "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
                "properties": ["dealname", "amount", "dealstage", "closedate", "createdate"], "limit": 1}
        results = (await self._post(http, "/crm/v3/objects/deals/search", body)).get("results") or []
        if not results:
            return None
        deal = results[0].get("properties") or {}
        return Order(str(results[0]["id"]), deal.get("closedate") or deal.get("createdate"), money(deal.get("amount")),
                     deal.get("dealstage"))

    async def lookup(self, http: aiohttp.ClientSession, number: str) -> Contact | None:
        found = await self._find(http, number)
        if found is None:
            return None
        properties = found.get("properties") or {}
        name = " ".join(p for p in (properties.get("firstname"), properties.get("lastname")) if p)
        portal = self.credentials.get("portal_id")
        url = f"https://app.hubspot.com/contacts/{portal}/contact/{found['id']}" if portal else None
        return Contact(name or number, properties.get("company") or None,
                       await self._newest_deal(http, str(found["id"])), url)

    async def log_call(self, http: aiohttp.ClientSession, call: CallLog) -> None:
        outside = call.caller if call.direction == "inbound" else call.callee
        contact_id = call.contact_ref
        if contact_id is None and outside and outside.startswith("+"):
            found = await self._find(http, outside)
            contact_id = str(found["id"]) if found else None
        body: dict = {"properties": {
            "hs_timestamp": call.started_at.isoformat(), "hs_call_title": f"Call {call.direction}",
            "hs_call_body": f"Extension {call.extension or '-'}", "hs_call_duration": str(call.duration_s * 1000),
            "hs_call_from_number": call.caller or "", "hs_call_to_number": call.callee or "",
            "hs_call_status": _STATUS.get(call.disposition, "FAILED"),
            "hs_call_direction": "INBOUND" if call.direction == "inbound" else "OUTBOUND"}}
        if contact_id:
            body["associations"] = [{"to": {"id": contact_id}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": CALL_TO_CONTACT}]}]
        await self._post(http, "/crm/v3/objects/calls", body)


def connect(base_url: str, credentials: dict) -> HubSpot:
    return HubSpot(base_url, credentials)
