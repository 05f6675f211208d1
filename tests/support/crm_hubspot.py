"""A local HubSpot (CRM API v3) for tests: the documented search, deals search and calls
requests, checked (path, Bearer token, body), answered in HubSpot's documented shapes."""
from __future__ import annotations

from aiohttp import web

from pbx.crm.base import number_forms
from tests.support.crm_server import CallServer, CrmServer, expect

TOKEN = "pat-eu1-test-0000"
CONTACT_ID, PORTAL = "51", "7000001"


class HubSpotServer(CallServer, CrmServer):
    """contact["phone"] "*": every number is that contact (the benchmark's CRM)."""

    provider = "hubspot"

    def seed_call(self, contact: dict) -> None:
        self.contact = contact

    def credentials(self) -> dict:
        return {"access_token": TOKEN, "portal_id": PORTAL}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/crm/v3/objects/contacts/search", self._contacts)
        app.router.add_post("/crm/v3/objects/deals/search", self._deals)
        app.router.add_post("/crm/v3/objects/calls", self._calls)

    async def _body(self, request: web.Request) -> dict:
        expect(request.headers.get("Authorization") == f"Bearer {TOKEN}", "not the private app's Bearer token")
        expect(request.content_type == "application/json", "not JSON")
        return await request.json()

    async def _contacts(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        groups = body.get("filterGroups") or []
        expect(len(groups) <= 5 and all(len(g["filters"]) <= 6 for g in groups), "over HubSpot's filter limits")
        filters = [f for g in groups for f in g["filters"]]
        expect({f["propertyName"] for f in filters} == {"phone", "mobilephone"}, "not phone and mobilephone")
        expect(all(f["operator"] == "IN" and f["values"] for f in filters), "IN with values expected")
        asked = {v for f in filters for v in f["values"]}
        expect("firstname" in body.get("properties", []), "the name properties were not asked for")
        if self.contact["phone"] != "*" and not asked & set(number_forms(self.contact["phone"])):
            return web.json_response({"total": 0, "results": []})
        first, _, last = self.contact["name"].partition(" ")
        return web.json_response({"total": 1, "results": [{
            "id": CONTACT_ID, "archived": False, "createdAt": "2026-01-05T09:00:00Z",
            "updatedAt": "2026-11-02T10:00:00Z",
            "properties": {"firstname": first, "lastname": last, "company": self.contact["company"],
                           "phone": self.contact["phone"], "mobilephone": None, "hs_object_id": CONTACT_ID}}]})

    async def _deals(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        [group] = body["filterGroups"]
        expect(group["filters"] == [{"propertyName": "associations.contact", "operator": "EQ", "value": CONTACT_ID}],
               "not the contact's deals")
        expect(body.get("sorts") == [{"propertyName": "createdate", "direction": "DESCENDING"}], "not newest first")
        order = self.contact.get("order")
        if order is None:
            return web.json_response({"total": 0, "results": []})
        return web.json_response({"total": 1, "results": [{
            "id": order["id"], "archived": False, "createdAt": order["date"], "updatedAt": order["date"],
            "properties": {"dealname": "Sipariş", "amount": order["total"], "dealstage": order["status"],
                           "closedate": order["date"], "createdate": order["date"]}}]})

    async def _calls(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        properties = body.get("properties") or {}
        for name in ("hs_timestamp", "hs_call_status", "hs_call_direction", "hs_call_duration"):
            expect(name in properties, f"{name} missing")
        expect(properties["hs_call_status"] in {"COMPLETED", "NO_ANSWER", "BUSY", "FAILED"}, "bad hs_call_status")
        expect(properties["hs_call_duration"].isdigit(), "hs_call_duration is milliseconds")
        for association in body.get("associations", []):
            expect(association["types"] == [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}],
                   "not the call-to-contact association")
        self.logged.append(body)
        return web.json_response({"id": str(9000 + len(self.logged)), "properties": properties,
                                  "createdAt": properties["hs_timestamp"], "archived": False}, status=201)
