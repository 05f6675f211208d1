"""A local Dynamics 365 for tests: Microsoft Entra ID's client-credentials token endpoint at
/{tenant}/oauth2/v2.0/token and the Dataverse Web API v9.2's contacts, salesorders and
phonecalls, answering with the documented shapes. It checks every request (bearer token,
OData headers, $filter syntax with its quoting, phonecall fields and bindings) and refuses
what Dataverse would refuse; the literals it matched are kept decoded in `searches`. Seed
with seed_account / seed_contact / seed_order; read back `phonecalls`.

    server = DynamicsServer(); await server.start()        # or start_in_thread()
    connector = dynamics.connect(server.url, server.credentials())
"""
from __future__ import annotations

import os
import re
import secrets
import time
import uuid
from datetime import datetime, timezone

from aiohttp import web

from tests.support.crm_server import CallServer, CrmServer
from tests.support.odata_syntax import ODataRefused, parse_query

DYNAMICS_PORT = 40076 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
TENANT_ID = "6e8b3f5a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
CLIENT_ID, CLIENT_SECRET = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f", "local~client~secret"
API = "/api/data/v9.2"
FORMATTED = "OData.Community.Display.V1.FormattedValue"
NOT_FOUND, DUPLICATE_KEY = "0x80040217", "0x80040237"

_GUID = r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
_CONTACT_COLUMNS = {"contactid", "fullname", "telephone1", "mobilephone", "modifiedon"}
_ORDER_COLUMNS = {"salesorderid", "ordernumber", "totalamount", "statecode", "statuscode", "createdon"}
_FILTERABLE = {"contacts": {"telephone1", "mobilephone"}, "salesorders": {"_customerid_value"}}
# (statecode, statuscode) by the status an order is seeded with.
ORDER_STATUSES = {"New": (0, 1), "Pending": (0, 2), "In Progress": (1, 3), "Complete": (3, 100001),
                  "Invoiced": (4, 100003), "Canceled": (2, 4)}
_PHONECALL_STATES = {0: {1}, 1: {2, 4}, 2: {3}}  # Open: Open; Completed: Made, Received; Canceled
_PHONECALL_FIELDS = {"activityid": str, "subject": str, "phonenumber": str, "directioncode": bool,
                     "actualdurationminutes": int, "actualstart": str, "actualend": str, "description": str,
                     "regardingobjectid_contact@odata.bind": str, "phonecall_activity_parties": list}


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _entra_error(error: str, aadsts: int, description: str) -> dict:
    return {"error": error, "error_description": f"AADSTS{aadsts}: {description}", "error_codes": [aadsts],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()), "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()), "error_uri": "https://login.microsoftonline.com/error"}


class DynamicsServer(CrmServer):
    def __init__(self, port: int = DYNAMICS_PORT) -> None:
        super().__init__(port)
        self.expires_in = 3599
        self.valid_tokens: set[str] = set()
        self.token_requests = 0
        self.accounts: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}
        self.salesorders: dict[str, dict] = {}
        self.phonecall_rows: dict[str, dict] = {}
        self.searches: list[list[tuple[str, str]]] = []

    # -- helpers for tests ------------------------------------------------------------------
    @property
    def token_url(self) -> str:
        return f"{self.url}/{TENANT_ID}/oauth2/v2.0/token"

    def credentials(self, access_token: str | None = None, expires_at: int | None = None) -> dict:
        creds = {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                 "token_url": self.token_url}
        if access_token:
            creds |= {"access_token": access_token, "access_token_expires_at": expires_at or int(time.time()) + 3000}
        return creds

    def issue_token(self) -> str:
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
        self.valid_tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def seed_account(self, name: str) -> str:
        account_id = str(uuid.uuid4())
        self.accounts[account_id] = {"accountid": account_id, "name": name}
        return account_id

    def seed_contact(self, fullname: str, telephone1: str | None = None, mobilephone: str | None = None,
                     account_id: str | None = None) -> str:
        contact_id = str(uuid.uuid4())
        self.contacts[contact_id] = {"contactid": contact_id, "fullname": fullname, "telephone1": telephone1,
                                     "mobilephone": mobilephone, "_parentcustomerid_value": account_id,
                                     "modifiedon": f"2026-11-{len(self.contacts) + 1:02d}T08:00:00Z"}
        return contact_id

    def seed_order(self, customer_id: str, ordernumber: str, createdon: str, totalamount: float,
                   status: str = "New") -> str:
        order_id = str(uuid.uuid4())
        # Any other name: a status reason the organisation added to the In Progress state.
        statecode, statuscode = ORDER_STATUSES.get(status, (1, 100010))
        self.salesorders[order_id] = {"salesorderid": order_id, "ordernumber": ordernumber, "createdon": createdon,
                                      "totalamount": totalamount, "statecode": statecode, "statuscode": statuscode,
                                      "_customerid_value": customer_id, "status_name": status}
        return order_id

    @property
    def phonecalls(self) -> list[dict]:
        return list(self.phonecall_rows.values())

    def failure_body(self, status: int):
        return _error("0x80040216", f"failing with {status} on purpose")

    # -- the provider ---------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get(f"{API}/contacts", self._checked(self._contacts))
        app.router.add_get(f"{API}/salesorders", self._checked(self._salesorders))
        app.router.add_post(f"{API}/phonecalls", self._checked(self._create_phonecall))
        app.router.add_patch(f"{API}/phonecalls({{activity_id}})", self._checked(self._update_phonecall))
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _not_found(self, request: web.Request) -> web.Response:
        return self.refuse(f"unknown resource {request.method} {request.path}", 404,
                           _error("0x8006088a", f"Resource not found for the segment '{request.path}'."))

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        if request.match_info["tenant"] != TENANT_ID:
            return self.refuse("unknown tenant", 400, _entra_error("invalid_request", 90002, "Tenant not found."))
        if form.get("grant_type") != "client_credentials":
            return self.refuse("grant_type", 400, _entra_error("unsupported_grant_type", 70003, "grant type"))
        if form.get("client_id") != CLIENT_ID:
            return self.refuse("client_id", 400, _entra_error("unauthorized_client", 700016, "unknown app"))
        if form.get("client_secret") != CLIENT_SECRET:
            return self.refuse("client_secret", 401,
                               _entra_error("invalid_client", 7000215, "Invalid client secret provided."))
        if form.get("scope") != f"{self.url}/.default":
            return self.refuse(f"scope {form.get('scope')!r}", 400,
                               _entra_error("invalid_scope", 70011, "invalid scope"))
        return web.json_response({"token_type": "Bearer", "expires_in": self.expires_in,
                                  "ext_expires_in": self.expires_in, "access_token": self.issue_token()})

    def _checked(self, handler):
        async def checked(request: web.Request) -> web.Response:
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
                challenge = (f"Bearer authorization_uri=https://login.microsoftonline.com/{TENANT_ID}/oauth2/authorize,"
                             f" resource_id={self.url}")
                return web.Response(status=401, headers={"WWW-Authenticate": challenge})
            headers = request.headers
            if (headers.get("OData-MaxVersion"), headers.get("OData-Version")) != ("4.0", "4.0") \
                    or "application/json" not in headers.get("Accept", ""):
                return self.refuse("OData headers missing", 400, _error("0x80048d19", "OData-Version 4.0 expected"))
            try:
                return await handler(request)
            except ODataRefused as exc:
                return self.refuse(str(exc), 400, _error(exc.code, str(exc)))
        return checked

    def _where(self, entity_set: str, rows: dict, query) -> list[dict]:
        unknown = [f for f, _ in query.clauses if f not in _FILTERABLE[entity_set]]
        if unknown or not query.clauses:
            raise ODataRefused(f"Could not find a property named '{unknown[0] if unknown else ''}'.", "0x80060888")
        self.searches.append(query.clauses)
        found = [r for r in rows.values() if any(r.get(f) == v for f, v in query.clauses)]
        for field, direction in query.order_by:
            found.sort(key=lambda r: str(r.get(field) or ""), reverse=direction == "desc")
        return found[:query.top] if query.top else found

    async def _contacts(self, request: web.Request) -> web.Response:
        query = parse_query(dict(request.query))
        if not set(query.select) <= _CONTACT_COLUMNS or set(query.expand) - {"parentcustomerid_account"} \
                or not set(query.expand.get("parentcustomerid_account", [])) <= {"accountid", "name"}:
            raise ODataRefused("Could not find a property named in $select/$expand.", "0x80060888")
        rows = []
        for contact in self._where("contacts", self.contacts, query):
            row = {"@odata.etag": 'W/"1001"', "contactid": contact["contactid"]}
            row |= {f: contact.get(f) for f in query.select}
            if "parentcustomerid_account" in query.expand:
                account = self.accounts.get(contact["_parentcustomerid_value"])
                row["parentcustomerid_account"] = None if account is None else {
                    f: account[f] for f in query.expand["parentcustomerid_account"]}
            rows.append(row)
        context = f"{self.url}{API}/$metadata#contacts({','.join(query.select)})"
        return web.json_response({"@odata.context": context, "value": rows})

    async def _salesorders(self, request: web.Request) -> web.Response:
        query = parse_query(dict(request.query))
        if not set(query.select) <= _ORDER_COLUMNS or query.expand:
            raise ODataRefused("Could not find a property named in $select.", "0x80060888")
        formatted = FORMATTED in request.headers.get("Prefer", "")
        rows = []
        for order in self._where("salesorders", self.salesorders, query):
            row = {"@odata.etag": 'W/"2002"', "salesorderid": order["salesorderid"]}
            row |= {f: order.get(f) for f in query.select}
            if formatted:
                row[f"statuscode@{FORMATTED}"] = order["status_name"]
                row[f"totalamount@{FORMATTED}"] = f"₺{order['totalamount']:,.2f}"
            rows.append(row)
        headers = {"Preference-Applied": f'odata.include-annotations="{FORMATTED}"'} if formatted else {}
        return web.json_response({"@odata.context": f"{self.url}{API}/$metadata#salesorders", "value": rows},
                                 headers=headers)

    async def _create_phonecall(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return self.refuse(f"phonecall as {request.content_type}", 415, _error("0x80048d0b", "JSON expected"))
        body = await request.json()
        problem = self._phonecall_problem(body)
        if problem:
            return self.refuse(problem, 400, _error("0x80048d19", problem))
        activity_id = body.get("activityid") or str(uuid.uuid4())
        if activity_id in self.phonecall_rows:
            return web.json_response(_error(DUPLICATE_KEY, "Cannot insert duplicate key."), status=412)
        self.phonecall_rows[activity_id] = {**body, "activityid": activity_id, "statecode": 0, "statuscode": 1}
        return web.Response(status=204, headers={"OData-EntityId": f"{self.url}{API}/phonecalls({activity_id})"})

    def _phonecall_problem(self, body) -> str | None:
        if not isinstance(body, dict):
            return "expected an object"
        for field, value in body.items():
            kind = _PHONECALL_FIELDS.get(field)
            if kind is None:
                return f"Invalid property '{field}' was found in entity 'Microsoft.Dynamics.CRM.phonecall'."
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                return f"Cannot convert the literal '{value}' to the expected type of '{field}'."
        if len(body.get("subject", "")) > 200 or len(body.get("phonenumber", "")) > 200:
            return "subject or phonenumber longer than 200"
        if "activityid" in body and not re.fullmatch(_GUID, body["activityid"]):
            return "activityid is not a GUID"
        for field in ("actualstart", "actualend"):
            if field in body:
                try:
                    datetime.fromisoformat(body[field].replace("Z", "+00:00"))
                except ValueError:
                    return f"{field} is not a DateTimeOffset"
        return self._bindings_problem(body)

    def _bindings_problem(self, body: dict) -> str | None:
        binds = [body.get("regardingobjectid_contact@odata.bind")]
        for party in body.get("phonecall_activity_parties", []):
            if not isinstance(party, dict) or party.get("participationtypemask") not in (1, 2):
                return f"bad activity party {party!r}"
            binds.append(party.get("partyid_contact@odata.bind"))
        for bind in binds:
            m = re.fullmatch(rf"/contacts\(({_GUID})\)", bind or "")
            if not m or m.group(1) not in self.contacts:
                return f"contact With Id = {bind} Does Not Exist"
        return None

    async def _update_phonecall(self, request: web.Request) -> web.Response:
        activity_id = request.match_info["activity_id"]
        if request.headers.get("If-Match") != "*":
            self.problems.append("PATCH without If-Match: * would upsert")
        row = self.phonecall_rows.get(activity_id)
        if row is None:
            return web.json_response(_error(NOT_FOUND, f"phonecall With Id = {activity_id} Does Not Exist"), status=404)
        body = await request.json()
        allowed = _PHONECALL_STATES.get(body.get("statecode"), ())
        if set(body) - {"statecode", "statuscode"} or body.get("statuscode") not in allowed:
            return self.refuse(f"bad state {body!r}", 400, _error("0x8004431a", f"{body} is not a valid state"))
        row.update(body)
        return web.Response(status=204)


class DynamicsCall(CallServer, DynamicsServer):
    """The live-call tests' Dynamics 365: the contact, its account and the account's order."""

    provider = "dynamics"

    def seed_call(self, contact: dict) -> None:
        account = self.seed_account(contact["company"])
        self.seed_contact(contact["name"], telephone1=contact["phone"], account_id=account)
        if order := contact.get("order"):  # createdon: Dataverse answers in UTC
            created = datetime.fromisoformat(order["date"]).astimezone(timezone.utc)
            self.seed_order(account, order["id"], created.strftime("%Y-%m-%dT%H:%M:%SZ"), float(order["total"]),
                            order["status"])

    @property
    def logged(self) -> list[dict]:
        """Phonecalls set completed (Made or Received), as the connector leaves them."""
        return [call for call in self.phonecalls if call.get("statecode") == 1]
