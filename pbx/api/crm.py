"""A tenant's CRM: PUT/GET/DELETE /tenants/{tid}/crm and the on-demand lookup.
Credentials go in and are never shown again."""
from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import AfterValidator, Field, StringConstraints

from pbx.api.context import CRM_CONNECTIONS, CRM_LOOKUPS, DATABASE, path_id, principal, visible_tenant_id
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.responses import STR, TIME, nullable, obj
from pbx.api.routes import Route
from pbx.api.schemas import Body, _printable
from pbx.crm.providers import KNOWN
from pbx.domain.errors import Invalid, NotFound, PbxError
from pbx.domain.numbers import to_e164

BASE = "/tenants/{tenant_id}/crm"

CredentialKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
CredentialValue = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_printable)]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2000), AfterValidator(_printable)]


class CrmPut(Body):
    provider: Literal[KNOWN]  # type: ignore[valid-type]
    base_url: Url | None = None
    credentials: Annotated[dict[CredentialKey, CredentialValue], Field(min_length=1, max_length=20)]


class CrmUnavailable(PbxError):
    status, code = 503, "crm_unavailable"


ORDER = obj(id=STR, date=nullable(STR), total=nullable(STR), status=nullable(STR))
CONTACT = obj(name=STR, company=nullable(STR), last_order=nullable(ORDER), url=nullable(STR))
CONNECTION = obj(provider={"type": "string", "enum": list(KNOWN)}, base_url=STR,
                 status={"type": "string", "enum": ["unknown", "ok", "failing"],
                         "description": "unknown (not used yet) | ok (last call succeeded) | failing"},
                 last_success_at=nullable(TIME), last_failure_at=nullable(TIME), last_error=nullable(STR),
                 created_at=TIME)
LOOKUP = obj(number=STR, contact=nullable(CONTACT))


def present(row) -> dict:
    if row.last_failure_at and (row.last_success_at is None or row.last_failure_at > row.last_success_at):
        status = "failing"
    else:
        status = "ok" if row.last_success_at else "unknown"
    return {"provider": row.provider, "base_url": row.base_url, "status": status,
            "last_success_at": timestamp(row.last_success_at), "last_failure_at": timestamp(row.last_failure_at),
            "last_error": row.last_error, "created_at": timestamp(row.created_at)}


async def put_crm(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    body = CrmPut.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await request.app[CRM_CONNECTIONS].put(unit, principal(request), tenant_id, body.model_dump())
        answer = present(row)
    return json_response(answer)


async def get_crm(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await request.app[CRM_CONNECTIONS].get(session, principal(request), path_id(request, "tenant_id"))
    return json_response(present(row))


async def delete_crm(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].unit() as unit:
        await request.app[CRM_CONNECTIONS].delete(unit, principal(request), tenant_id)
    return web.Response(status=204)


async def lookup_crm(request: web.Request) -> web.Response:
    tenant_id = await visible_tenant_id(request)
    raw = request.query.get("number")
    if not raw or len(raw) > 40:
        raise Invalid("number: give the caller's number, e.g. ?number=05321234567")
    number = to_e164(raw)
    async with request.app[DATABASE].read() as session:
        await request.app[CRM_CONNECTIONS].get(session, principal(request), tenant_id)
    lookups = request.app[CRM_LOOKUPS]
    try:
        contact = await lookups.lookup(tenant_id, number)
    except NotFound:
        raise
    except Exception as exc:
        raise CrmUnavailable(f"the CRM did not answer: {type(exc).__name__}") from exc
    return json_response({"number": number, "contact": contact.as_dict() if contact else None})


ROUTES = [
    Route("PUT", BASE, put_crm, "Connect the tenant's CRM (replacing any); credentials are stored sealed and never "
          "shown again. Girişimci: 403; salesforce and dynamics need Enterprise (403); base_url (default: the "
          "provider's public API) must not resolve to a loopback, private or link-local address", body=CrmPut,
          response=CONNECTION),
    Route("GET", BASE, get_crm, "The tenant's CRM: provider and status, never its credentials (404: none)",
          response=CONNECTION),
    Route("DELETE", BASE, delete_crm, "Disconnect the tenant's CRM", status=204),
    Route("GET", BASE + "/lookup", lookup_crm, "Look a number up in the tenant's CRM, as call.ringing does "
          "(404: no CRM; 503 crm_unavailable: it failed or timed out)", query=("number",), response=LOOKUP,
          errors=(("503", "crm_unavailable: the CRM failed, timed out, or failed repeatedly of late"),)),
]
