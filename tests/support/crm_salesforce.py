"""A local Salesforce for tests: the OAuth 2.0 refresh-token flow at /services/oauth2/token
and the REST API's search (SOSL), query (SOQL) and sobjects/Task resources, answering with
the documented shapes. It checks every request (bearer token, SOSL and SOQL syntax with the
documented escapes, Task fields and picklists) and refuses what Salesforce would refuse;
what it searched for is kept decoded in `searches`, so a test sees hostile text arrive as
plain data. Seed with seed_account / seed_contact / seed_order; read back `tasks`.

    server = SalesforceServer(); await server.start()      # or start_in_thread()
    connector = salesforce.connect(server.url, server.credentials())
"""
from __future__ import annotations

import itertools
import os
import re
import secrets
import time

from aiohttp import web

from tests.support.crm_server import CallServer, CrmServer
from tests.support.salesforce_syntax import SoqlQuery, SyntaxRefused, parse_soql, parse_sosl, phrase_in

SALESFORCE_PORT = 40075 + int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
CLIENT_ID, CLIENT_SECRET = "3MVG9.local-consumer-key", "local-consumer-secret"

_PHONE_FIELDS = {"Contact": ("Phone", "MobilePhone"), "Account": ("Phone",)}
_COLUMNS = {"Contact": {"Id", "Name", "AccountId", "Account.Name", "Phone", "MobilePhone"},
            "Account": {"Id", "Name", "Phone"},
            "Order": {"Id", "OrderNumber", "EffectiveDate", "TotalAmount", "Status", "AccountId", "CreatedDate"},
            "Task": {"Id", "CallObject", "WhoId", "WhatId", "Subject"}}
_PICKLISTS = {"TaskSubtype": {"Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"},
              "Status": {"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"},
              "Priority": {"High", "Normal", "Low"}, "CallType": {"Internal", "Inbound", "Outbound"}}
_TASK_STRINGS = {"Subject": 255, "CallDisposition": 255, "CallObject": 255, "Description": 32000}
_TASK_FIELDS = set(_PICKLISTS) | set(_TASK_STRINGS) | {"WhoId", "WhatId", "ActivityDate", "CallDurationInSeconds"}


def _error(code: str, message: str, fields: list | None = None) -> list:
    return [{"message": message, "errorCode": code, "fields": fields or []}]


class SalesforceServer(CrmServer):
    def __init__(self, port: int = SALESFORCE_PORT, version: str = "v62.0") -> None:
        super().__init__(port)
        self.version = version
        self.refresh_token = "5Aep861-local-refresh-token"
        self.rotate_refresh_tokens = False
        self.instance_url: str | None = None  # what the token answer names as the instance (default: this server)
        self.valid_tokens: set[str] = set()
        self.token_requests = 0
        self.records: dict[str, dict[str, dict]] = {"Contact": {}, "Account": {}, "Order": {}, "Task": {}}
        self.searches: list[list[str]] = []
        self.queries: list[SoqlQuery] = []
        self._ids = itertools.count(1)

    # -- helpers for tests ------------------------------------------------------------------
    def credentials(self, access_token: str | None = None) -> dict:
        creds = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": self.refresh_token}
        return creds | ({"access_token": access_token, "instance_url": self.url} if access_token else {})

    def issue_token(self) -> str:
        token = "00Dlocal!" + secrets.token_urlsafe(24)
        self.valid_tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        """Every session times out: the next request with an old token gets 401."""
        self.valid_tokens.clear()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):012d}AAA"

    def seed_account(self, name: str, phone: str | None = None) -> str:
        record = {"Id": self._new_id("001"), "Name": name, "Phone": phone}
        self.records["Account"][record["Id"]] = record
        return record["Id"]

    def seed_contact(self, name: str, phone: str | None = None, mobile: str | None = None,
                     account_id: str | None = None) -> str:
        record = {"Id": self._new_id("003"), "Name": name, "Phone": phone, "MobilePhone": mobile,
                  "AccountId": account_id}
        self.records["Contact"][record["Id"]] = record
        return record["Id"]

    def seed_order(self, account_id: str, number: str, effective_date: str, total: float,
                   status: str = "Activated") -> str:
        record = {"Id": self._new_id("801"), "OrderNumber": number, "AccountId": account_id,
                  "EffectiveDate": effective_date, "TotalAmount": total, "Status": status,
                  "CreatedDate": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())}
        self.records["Order"][record["Id"]] = record
        return record["Id"]

    @property
    def tasks(self) -> list[dict]:
        return list(self.records["Task"].values())

    def failure_body(self, status: int):
        return _error("UNKNOWN_EXCEPTION", f"failing with {status} on purpose")

    # -- the provider ---------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/services/oauth2/token", self._token)
        api = f"/services/data/{self.version}"
        app.router.add_get(f"{api}/search/", self._authorized(self._search))
        app.router.add_get(f"{api}/query/", self._authorized(self._query))
        app.router.add_post(f"{api}/sobjects/Task/", self._authorized(self._create_task))
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _not_found(self, request: web.Request) -> web.Response:
        return self.refuse(f"unknown resource {request.method} {request.path}", 404,
                           _error("NOT_FOUND", "The requested resource does not exist"))

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        if request.content_type != "application/x-www-form-urlencoded":
            return self.refuse(f"token request as {request.content_type}", 400,
                               {"error": "invalid_request", "error_description": "must use form encoding"})
        form = await request.post()
        if form.get("grant_type") != "refresh_token":
            return self.refuse(f"grant_type {form.get('grant_type')!r}", 400,
                               {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self.refuse("wrong client", 400,
                               {"error": "invalid_client", "error_description": "invalid client credentials"})
        if form.get("refresh_token") != self.refresh_token:
            return self.refuse("wrong refresh token", 400,
                               {"error": "invalid_grant", "error_description": "expired access/refresh token"})
        answer = {"access_token": self.issue_token(), "signature": secrets.token_urlsafe(32),
                  "scope": "api refresh_token", "instance_url": self.instance_url or self.url, "token_type": "Bearer",
                  "id": f"{self.url}/id/00Dlocal00000001AAA/005local00000001AAA",
                  "issued_at": str(int(time.time() * 1000))}
        if self.rotate_refresh_tokens:
            self.refresh_token = answer["refresh_token"] = "5Aep861-" + secrets.token_urlsafe(16)
        return web.json_response(answer)

    def _authorized(self, handler):
        async def checked(request: web.Request) -> web.Response:
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
                # An expired session is an ordinary 401 here, not a failed check.
                return web.json_response(_error("INVALID_SESSION_ID", "Session expired or invalid"), status=401)
            if "json" not in request.headers.get("Accept", ""):
                return self.refuse("Accept is not JSON", 406, _error("NOT_ACCEPTABLE", "Accept: application/json"))
            try:
                return await handler(request)
            except SyntaxRefused as exc:
                return self.refuse(f"{exc.code}: {exc}", 400, _error(exc.code, str(exc)))
        return checked

    async def _search(self, request: web.Request) -> web.Response:
        search = parse_sosl(request.query.get("q", ""))
        if search.scope != "PHONE":
            raise SyntaxRefused("MALFORMED_SEARCH", f"expected IN PHONE FIELDS, got {search.scope}")
        self.searches.append(search.phrases)
        found = []
        for sobject, fields, limit in search.returning:
            self._check_columns(sobject, fields)
            hits = [r for r in self.records[sobject].values()
                    if any(phrase_in(p, r.get(f)) for p in search.phrases for f in _PHONE_FIELDS[sobject])]
            found += [self._render(sobject, r, fields) for r in hits[:limit]]
        return web.json_response({"searchRecords": found})

    async def _query(self, request: web.Request) -> web.Response:
        query = parse_soql(request.query.get("q", ""))
        self._check_columns(query.sobject, query.fields + [query.where_field] + [f for f, _ in query.order_by])
        self.queries.append(query)
        rows = [r for r in self.records[query.sobject].values() if r.get(query.where_field) == query.where_value]
        for field, direction in reversed(query.order_by):
            rows.sort(key=lambda r: str(r.get(field) or ""), reverse=direction == "DESC")
        rows = [self._render(query.sobject, r, query.fields) for r in rows[:query.limit]]
        return web.json_response({"totalSize": len(rows), "done": True, "records": rows})

    def _check_columns(self, sobject: str, fields: list[str]) -> None:
        if sobject not in _COLUMNS:
            raise SyntaxRefused("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        unknown = [f for f in fields if f not in _COLUMNS[sobject]]
        if unknown:
            raise SyntaxRefused("INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{sobject}'.")

    def _render(self, sobject: str, record: dict, fields: list[str]) -> dict:
        url = f"/services/data/{self.version}/sobjects/{sobject}/{record['Id']}"
        out = {"attributes": {"type": sobject, "url": url}}
        for field in fields:
            if field == "Account.Name":
                account = self.records["Account"].get(record.get("AccountId"))
                out["Account"] = None if account is None else self._render("Account", account, ["Name"])
            else:
                out[field] = record.get(field)
        return out

    async def _create_task(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return self.refuse(f"Task as {request.content_type}", 415, _error("UNSUPPORTED_MEDIA_TYPE", "JSON only"))
        body = await request.json()
        problem = self._task_problem(body)
        if problem:
            code, message, field = problem
            return self.refuse(f"{code}: {message}", 400, _error(code, message, [field]))
        task_id = self._new_id("00T")
        self.records["Task"][task_id] = {"Id": task_id, **body}
        return web.json_response({"id": task_id, "success": True, "errors": []}, status=201)

    def _task_problem(self, body) -> tuple[str, str, str] | None:
        if not isinstance(body, dict):
            return "JSON_PARSER_ERROR", "expected an object", ""
        for field, value in body.items():
            if field not in _TASK_FIELDS:
                return "INVALID_FIELD", f"No such column '{field}' on sobject of type Task", field
            if field in _PICKLISTS and value not in _PICKLISTS[field]:
                return ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"bad value for restricted picklist field: {value}", field)
            if field in _TASK_STRINGS and (not isinstance(value, str) or len(value) > _TASK_STRINGS[field]):
                return "STRING_TOO_LONG" if isinstance(value, str) else "INVALID_TYPE", f"{field}: {value!r}", field
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(body.get("ActivityDate"))):
            return "INVALID_TYPE", "ActivityDate: expected a date", "ActivityDate"
        duration = body.get("CallDurationInSeconds")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
            return "INVALID_TYPE", "CallDurationInSeconds: expected a whole number", "CallDurationInSeconds"
        if body.get("WhoId") not in self.records["Contact"] and body.get("WhatId") not in self.records["Account"]:
            return "FIELD_INTEGRITY_EXCEPTION", "Name ID: id value of incorrect type", "WhoId"
        return None


class SalesforceCall(CallServer, SalesforceServer):
    """The live-call tests' Salesforce: the contact, its account and the account's order."""

    provider = "salesforce"

    def seed_call(self, contact: dict) -> None:
        account = self.seed_account(contact["company"])
        self.seed_contact(contact["name"], phone=contact["phone"], account_id=account)
        if order := contact.get("order"):  # an Order's EffectiveDate is a date
            self.seed_order(account, order["id"], order["date"][:10], float(order["total"]), order["status"])

    @property
    def logged(self) -> list[dict]:
        return [task for task in self.tasks if task.get("TaskSubtype") == "Call"]
