"""A local Zoho CRM (API v2) and its accounts server for tests: the refresh-token grant,
Contacts/Leads search by criteria, a contact's Sales_Orders and the Calls module, each
request checked (path, Zoho-oauthtoken header, parameters, body), answered in Zoho's
documented shapes (204 and no body when a search finds nothing)."""
from __future__ import annotations

import re

from aiohttp import web

from pbx.crm.base import number_forms
from tests.support.crm_server import CallServer, CrmServer, expect

CLIENT_ID, CLIENT_SECRET, REFRESH = "1000.TESTCLIENT", "test-client-secret", "1000.refresh.test"
CONTACT_ID = "4150868000000224005"
_CONDITION = re.compile(r"\((Phone|Mobile):equals:([^()]+)\)")


class ZohoServer(CallServer, CrmServer):
    provider = "zoho"

    def seed_call(self, contact: dict) -> None:
        self.contact = contact
        self.tokens_issued: list[str] = []

    def credentials(self) -> dict:
        return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH,
                "accounts_url": self.url}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/oauth/v2/token", self._token)
        app.router.add_get("/crm/v2/{module}/search", self._search)
        app.router.add_get("/crm/v2/Contacts/{id}/Sales_Orders", self._orders)
        app.router.add_post("/crm/v2/Calls", self._calls)

    async def _token(self, request: web.Request) -> web.Response:
        params = request.query
        expect(params.get("grant_type") == "refresh_token", "not the refresh-token grant")
        expect((params.get("client_id"), params.get("client_secret"), params.get("refresh_token")) ==
               (CLIENT_ID, CLIENT_SECRET, REFRESH), "wrong client or refresh token")
        token = f"1000.access.{len(self.tokens_issued) + 1}"
        self.tokens_issued.append(token)
        return web.json_response({"access_token": token, "api_domain": self.url, "token_type": "Bearer",
                                  "expires_in": 3600})

    def expire_tokens(self) -> None:
        """Every access token issued so far is refused from now on (401 INVALID_TOKEN)."""
        self.tokens_issued.append("expired")

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return bool(self.tokens_issued) and header == f"Zoho-oauthtoken {self.tokens_issued[-1]}"

    async def _search(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token",
                                      "status": "error"}, status=401)
        module, criteria = request.match_info["module"], request.query.get("criteria", "")
        expect(module in ("Contacts", "Leads"), f"searching {module}")
        conditions = _CONDITION.findall(criteria)
        expect(conditions and len(conditions) <= 10, "criteria: 1 to 10 conditions")
        expect(criteria == "(" + "or".join(f"({f}:equals:{v})" for f, v in conditions) + ")", "criteria syntax")
        if module != "Contacts" or not {v for _, v in conditions} & set(number_forms(self.contact["phone"])):
            return web.Response(status=204)
        return web.json_response({"data": [{
            "id": CONTACT_ID, "Full_Name": self.contact["name"], "Phone": self.contact["phone"], "Mobile": None,
            "Account_Name": {"name": self.contact["company"], "id": "4150868000000224001"}}],
            "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False}})

    async def _orders(self, request: web.Request) -> web.Response:
        expect(self._authorized(request), "not the issued Zoho-oauthtoken")
        expect(request.match_info["id"] == CONTACT_ID, "another contact's orders")
        order = self.contact.get("order")
        if order is None:
            return web.Response(status=204)
        older = {"id": "4150868000000300001", "Subject": "Eski", "Grand_Total": 10.0, "Status": "Delivered",
                 "Created_Time": "2025-01-01T10:00:00+03:00"}
        return web.json_response({"data": [older, {
            "id": order["id"], "Subject": "Sipariş", "Grand_Total": float(order["total"]), "Status": order["status"],
            "Created_Time": order["date"]}], "info": {"per_page": 200, "count": 2, "page": 1, "more_records": False}})

    async def _calls(self, request: web.Request) -> web.Response:
        expect(self._authorized(request), "not the issued Zoho-oauthtoken")
        [record] = (await request.json())["data"]
        for name in ("Subject", "Call_Type", "Call_Start_Time", "Call_Duration"):
            expect(record.get(name), f"{name} missing")
        expect(record["Call_Type"] in ("Inbound", "Outbound"), "bad Call_Type")
        expect(re.fullmatch(r"\d{2,}:\d{2}", record["Call_Duration"]) is not None, "Call_Duration is mm:ss")
        self.logged.append(record)
        created = {"id": str(4150868000000500000 + len(self.logged))}
        return web.json_response({"data": [{"code": "SUCCESS", "details": created, "message": "record added",
                                            "status": "success"}]}, status=201)
