"""Number porting requests (tenant or operator submits; the operator moves them on) and
the number pool (operator stocks it; a tenant picks a free number)."""
from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field, StringConstraints

from pbx.api import responses
from pbx.api.context import DATABASE, PORTING, SETTINGS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.number_allocations import present as present_allocation
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Body, DestinationJson, Name
from pbx.api.uploads import receive_prompt_upload
from pbx.db.number_tables import PortingRequest
from pbx.numbers import documents, pool
from pbx.services.tenants import scoped_get, scoped_list, visible_tenant

BASE = "/tenants/{tenant_id}/porting-requests"
NumberText = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class PortingCreate(Body):
    number: NumberText
    current_operator: Name
    destination: DestinationJson


class PortingPatch(Body):
    status: Literal["approved", "scheduled", "completed", "rejected"]
    reason: Name | None = None


class PoolStock(Body):
    numbers: Annotated[list[NumberText], Field(min_length=1, max_length=pool.MAX_PER_REQUEST)]


class PoolPick(Body):
    number: NumberText


def present(row: PortingRequest) -> dict:
    return {"id": row.id, "number": row.number, "current_operator": row.current_operator,
            "destination": row.destination, "status": row.status, "expected_date": row.expected_date.isoformat(),
            "document": None if row.document_sha256 is None else {
                "name": row.document_name, "media_type": row.document_type, "sha256": row.document_sha256,
                "size_bytes": row.document_size},
            "reason": row.reason, "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at)}


async def create_request(request: web.Request) -> web.Response:
    body = PortingCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await request.app[PORTING].submit(unit, principal(request), path_id(request, "tenant_id"),
                                                body.model_dump())
    return json_response(present(row), status=201)


async def list_requests(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await scoped_list(session, principal(request), PortingRequest, path_id(request, "tenant_id"))
    return json_response({"items": [present(r) for r in rows]})


async def get_request(request: web.Request) -> web.Response:
    ids = path_id(request, "tenant_id"), path_id(request, "request_id")
    async with request.app[DATABASE].read() as session:
        row = await scoped_get(session, principal(request), PortingRequest, *ids, "porting request")
    return json_response(present(row))


async def patch_request(request: web.Request) -> web.Response:
    ids = path_id(request, "tenant_id"), path_id(request, "request_id")
    body = PortingPatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await request.app[PORTING].advance(unit, principal(request), *ids, body.status, body.reason)
    return json_response(present(row))


async def put_document(request: web.Request) -> web.Response:
    """multipart: `file` (PDF, JPEG or PNG, at most 5 MiB) and `name`; replaces any earlier one."""
    ids = path_id(request, "tenant_id"), path_id(request, "request_id")
    settings = request.app[SETTINGS]
    async with request.app[DATABASE].read() as session:  # before any byte is spooled
        await scoped_get(session, principal(request), PortingRequest, *ids, "porting request")
    incoming = settings.data_dir / "porting" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True, mode=0o700)
    name, upload = await receive_prompt_upload(request, incoming, documents.MAX_BYTES)
    try:
        media, sha256, size = documents.keep(upload, settings.data_dir / "porting", *ids)
    finally:
        upload.unlink(missing_ok=True)
    async with request.app[DATABASE].unit() as unit:
        row = await scoped_get(unit.session, principal(request), PortingRequest, *ids, "porting request")
        row.document_name, row.document_type, row.document_sha256, row.document_size = name, media, sha256, size
    return json_response(present(row))


async def stock_pool(request: web.Request) -> web.Response:
    body = PoolStock.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        added = await pool.stock(unit, principal(request), body.numbers)
    return json_response({"added": added}, status=201)


async def list_pool(request: web.Request) -> web.Response:
    area = request.query.get("area") or None
    async with request.app[DATABASE].read() as session:
        rows = await pool.free(session, area if area and area.isdigit() and len(area) == 4 else None)
    return json_response({"items": [{"number": r.number, "area": r.area} for r in rows]})


async def pick_number(request: web.Request) -> web.Response:
    body = PoolPick.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await pool.pick(unit, principal(request), path_id(request, "tenant_id"), body.number)
    return json_response(present_allocation(row), status=201)


DOCUMENT = responses.nullable(responses.obj(name=responses.STR, media_type=responses.STR, sha256=responses.STR,
                                            size_bytes=responses.INT))
PORTING_REQUEST = responses.obj(
    id=responses.INT, number=responses.STR, current_operator=responses.STR, destination=responses.DEST,
    status={"type": "string", "enum": ["submitted", "approved", "scheduled", "completed", "rejected"]},
    expected_date={"type": "string", "format": "date"}, document=DOCUMENT, reason=responses.nullable(responses.STR),
    created_at=responses.TIME, updated_at=responses.TIME)
POOL_NUMBER = responses.obj(number=responses.STR, area=responses.STR)
ROUTES = [
    Route("POST", BASE, create_request, "Ask to port a number in (due in 3 Turkish business days)",
          body=PortingCreate, status=201, response=PORTING_REQUEST),
    Route("GET", BASE, list_requests, "The tenant's porting requests", response=responses.items(PORTING_REQUEST)),
    Route("GET", BASE + "/{request_id}", get_request, "A porting request", response=PORTING_REQUEST),
    Route("PATCH", BASE + "/{request_id}", patch_request, "Move a porting request on (each move raises an event)",
          body=PortingPatch, operator_only=True, response=PORTING_REQUEST),
    Route("PUT", BASE + "/{request_id}/document", put_document,
          "Upload the signed request document (PDF, JPEG or PNG; at most 5 MiB)", form=True,
          response=PORTING_REQUEST, errors=(("415", "unsupported_media: not a PDF, JPEG or PNG file"),)),
    Route("POST", "/number-pool", stock_pool, "Add numbers to the pool (0850 and geographic only)",
          body=PoolStock, status=201, operator_only=True, response=responses.obj(added=responses.INT)),
    Route("GET", "/number-pool", list_pool, "Free pool numbers (?area=0212)", query=("area",),
          response=responses.items(POOL_NUMBER)),
    Route("POST", "/tenants/{tenant_id}/number-pool/pick", pick_number, "Pick a free pool number: it is allocated",
          body=PoolPick, status=201, response=responses.ALLOCATION),
]
