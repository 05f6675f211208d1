"""Operations: trunk status, fault records, notice contacts (contract: "Operations")."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pbx.api import ops_schemas as schemas
from pbx.api.context import DATABASE, OPERATIONS, path_id, principal, visible_tenant_id
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.domain.numbers import to_e164
from pbx.ops import complaints
from pbx.ops import faults as fault_store
from pbx.ops import notices
from pbx.ops.metrics import CONTENT_TYPE
from pbx.ops.present import present_fault
from pbx.services import trunks
from pbx.services.tenants import require_operator

# One line, printable, no control or bidi characters (it goes into SMS, e-mail, speech and
# spreadsheets): nor a leading =, +, -, @ that a spreadsheet would run as a formula.
_BAD = r"\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069"
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=rf"^[^=+\-@\s{_BAD}][^{_BAD}]*$")]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000,
                                            pattern=r"^[^\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]+$")]
Priority = Literal["kritik", "yuksek", "normal", "dusuk"]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(to_e164)]


class FaultCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)
    title: Text
    priority: Priority
    trunk_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    number: Phone | None = None
    from_: AwareDatetime | None = Field(default=None, alias="from")
    to: AwareDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _times(cls, data):  # JSON has no datetime: strict mode still parses ISO strings here
        for key in ("from", "to"):
            if isinstance(data, dict) and isinstance(data.get(key), str):
                data = {**data, key: datetime.fromisoformat(data[key])}
        return data

    @model_validator(mode="after")
    def _order(self):
        for value in (self.from_, self.to):
            if value is not None and not 2000 <= value.year <= 2100:
                raise ValueError("from and to must lie between 2000 and 2100")
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("from is after to")
        return self

    def fields(self) -> dict:
        return {"title": self.title, "priority": self.priority, "trunk_id": self.trunk_id,
                "number": self.number, "from": self.from_, "to": self.to}


class ComplaintCreate(FaultCreate):
    """A tenant's complaint: a fault, optionally with what it is about (the monthly report counts them)."""
    reason: Annotated[complaints.Reason | None, Field(
        description="What the complaint is about: " + "; ".join(
            f"{code} = {tr} ({en})" for code, (tr, en) in complaints.REASONS.items()),
        json_schema_extra={"x-labels": {code: {"tr": tr, "en": en} for code, (tr, en) in complaints.REASONS.items()}},
    )] = None

    def fields(self) -> dict:
        return {**super().fields(), "reason": self.reason}


class FaultPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    status: Literal["open", "resolved"] | None = None
    cause: LongText | None = None
    fix: LongText | None = None
    prevention: LongText | None = None


class Contact(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Text
    phone: Phone | None = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")] | None = None
    channels: Annotated[list[Literal["sms", "email", "ivr"]], Field(min_length=1, max_length=3)]

    @model_validator(mode="after")
    def _channels(self):
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel is listed twice")
        notices.check_channels(self.channels, self.phone, self.email)
        return self


class Contacts(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    contacts: Annotated[list[Contact], Field(max_length=20)]


def _ops(request: web.Request):
    return request.app[OPERATIONS]


def _by(request: web.Request) -> str:
    who = principal(request)
    return "operator" if who.is_operator else f"token:{who.token_id}"


async def trunk_status(request: web.Request) -> web.Response:
    trunk_id = path_id(request, "trunk_id")
    async with request.app[DATABASE].read() as session:
        await trunks.get_trunk(session, principal(request), trunk_id)
    status = await _ops(request).monitor.status(trunk_id)
    return json_response({**status, "since": timestamp(status["since"])})


async def create_fault(request: web.Request) -> web.Response:
    body = FaultCreate.model_validate(await json_body(request))
    require_operator(principal(request))
    async with request.app[DATABASE].unit() as unit:
        fault = await _ops(request).faults.open(unit, body.fields(), source="operator", by=_by(request))
        shown = await present_fault(unit.session, fault)
    return json_response(shown, status=201)


async def create_complaint(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    body = ComplaintCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        await fault_store.visible_tenant(unit.session, principal(request), tenant_id)
        fields = {**body.fields(), "trunk_id": None}  # a tenant cannot see trunks
        fault = await _ops(request).faults.open(unit, fields, source="complaint", by=_by(request),
                                                tenant_id=tenant_id)
        shown = await present_fault(unit.session, fault, detail=True)
    return json_response(shown, status=201)


async def patch_fault(request: web.Request) -> web.Response:
    fault_id = path_id(request, "fault_id")
    body = FaultPatch.model_validate(await json_body(request))
    require_operator(principal(request))
    async with request.app[DATABASE].unit() as unit:
        fault = await fault_store.get_fault(unit.session, principal(request), fault_id)
        await _ops(request).faults.change(unit, fault, body.model_dump(exclude_none=True), by=_by(request))
        shown = await present_fault(unit.session, fault, detail=True)
    return json_response(shown)


async def get_fault(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        fault = await fault_store.get_fault(session, principal(request), path_id(request, "fault_id"))
        return json_response(await present_fault(session, fault, detail=True))


async def list_faults(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await fault_store.list_faults(session, principal(request))
        return json_response({"items": [await present_fault(session, f) for f in rows]})


async def list_tenant_faults(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].read() as session:
        rows = await fault_store.list_faults(session, principal(request), tenant_id)
        return json_response({"items": [await present_fault(session, f) for f in rows]})


async def get_tenant_fault(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        fault = await fault_store.tenant_fault(session, principal(request), path_id(request, "tenant_id"),
                                               path_id(request, "fault_id"))
        return json_response(await present_fault(session, fault, detail=True))


async def metrics(request: web.Request) -> web.Response:
    require_operator(principal(request))
    body = await _ops(request).metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _contact(row) -> dict:
    return {"id": row.id, "name": row.name, "phone": row.phone, "email": row.email, "channels": row.channels}


async def put_contacts(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    body = Contacts.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        rows = await notices.replace_contacts(unit, principal(request), tenant_id, body.model_dump()["contacts"])
        shown = {"contacts": [_contact(r) for r in rows]}
    return json_response(shown)


async def get_contacts(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await notices.list_contacts(session, principal(request), path_id(request, "tenant_id"))
        return json_response({"contacts": [_contact(r) for r in rows]})


ROUTES = [
    Route("GET", "/metrics", metrics, "Health as Prometheus metrics (also served at /metrics)", operator_only=True,
          response={"type": "string"}, produces="text/plain"),
    Route("GET", "/trunks/{trunk_id}/status", trunk_status, "A trunk's reachability (SIP OPTIONS) and RTT",
          operator_only=True, response=schemas.TRUNK_STATUS),
    Route("POST", "/faults", create_fault, "Open a fault record (operator)", body=FaultCreate, status=201,
          operator_only=True, response=schemas.FAULT),
    Route("GET", "/faults", list_faults, "All fault records, newest first", operator_only=True,
          response=schemas.items(schemas.FAULT)),
    Route("GET", "/faults/{fault_id}", get_fault, "A fault with its history and linked calls",
          response=schemas.FAULT_DETAIL),
    Route("PATCH", "/faults/{fault_id}", patch_fault, "Acknowledge or resolve a fault (resolving needs a cause)",
          body=FaultPatch, operator_only=True, response=schemas.FAULT_DETAIL,
          errors=(("409", "already resolved"),)),
    Route("POST", "/tenants/{tenant_id}/faults", create_complaint, "A tenant's complaint: its calls are linked",
          body=ComplaintCreate, status=201, response=schemas.FAULT_DETAIL),
    Route("GET", "/tenants/{tenant_id}/faults", list_tenant_faults, "Faults affecting or raised by the tenant",
          response=schemas.items(schemas.FAULT)),
    Route("GET", "/tenants/{tenant_id}/faults/{fault_id}", get_tenant_fault, "One of the tenant's faults",
          response=schemas.FAULT_DETAIL),
    Route("PUT", "/tenants/{tenant_id}/notice-contacts", put_contacts,
          "Who is told of outages, by which channels (ivr only with sms or email)", body=Contacts,
          response=schemas.CONTACTS),
    Route("GET", "/tenants/{tenant_id}/notice-contacts", get_contacts, "The tenant's notice contacts",
          response=schemas.CONTACTS),
]
