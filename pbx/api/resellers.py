"""Resellers (seed 004's B2B sub-agents): made by the operator, each with its own tokens;
a reseller token creates and manages its own customers (POST /tenants with it)."""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints
from sqlalchemy import select

from pbx.api import responses
from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Body, Name
from pbx.billing import resellers
from pbx.db.billing_tables import Reseller
from pbx.domain.errors import NotFound
from pbx.services.tenants import require_operator

Percent = Annotated[str, StringConstraints(pattern=r"^(100|[0-9]{1,2})(\.[0-9]{1,2})?$")]


class ResellerCreate(Body):
    name: Name
    discount_percent: Percent = "0"  # off the list price: its wholesale price


def present(row: Reseller) -> dict:
    return {"id": row.id, "name": row.name, "discount_percent": row.discount_percent,
            "created_at": timestamp(row.created_at)}


async def create_reseller(request: web.Request) -> web.Response:
    require_operator(principal(request))
    body = ResellerCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = Reseller(name=body.name, discount_percent=body.discount_percent)
        unit.session.add(row)
        await unit.session.flush()
    return json_response(present(row), status=201)


async def list_resellers(request: web.Request) -> web.Response:
    who = principal(request)
    query = select(Reseller).order_by(Reseller.id)
    if not who.is_operator:
        query = query.where(Reseller.id == (who.reseller_id or 0))
    async with request.app[DATABASE].read() as session:
        rows = list(await session.scalars(query))
    return json_response({"items": [present(r) for r in rows]})


async def get_reseller(request: web.Request) -> web.Response:
    who, reseller_id = principal(request), path_id(request, "reseller_id")
    async with request.app[DATABASE].read() as session:
        row = await session.get(Reseller, reseller_id)
    if row is None or not (who.is_operator or who.reseller_id == reseller_id):
        raise NotFound("no such reseller")
    return json_response(present(row))


async def create_reseller_token(request: web.Request) -> web.Response:
    reseller_id = path_id(request, "reseller_id")
    if not principal(request).is_operator:
        raise NotFound("no such reseller")
    async with request.app[DATABASE].unit() as unit:
        token = await resellers.create_token(unit.session, reseller_id)
    return json_response({"token": token}, status=201)


RESELLER = responses.obj(id=responses.INT, name=responses.STR, discount_percent=responses.STR,
                         created_at=responses.TIME)
ROUTES = [
    Route("POST", "/resellers", create_reseller, "Create a reseller (B2B sub-agent) with its discount",
          body=ResellerCreate, status=201, operator_only=True, response=RESELLER),
    Route("GET", "/resellers", list_resellers, "Resellers (a reseller token sees itself)",
          response=responses.items(RESELLER)),
    Route("GET", "/resellers/{reseller_id}", get_reseller, "A reseller", response=RESELLER),
    Route("POST", "/resellers/{reseller_id}/tokens", create_reseller_token, "A new reseller token (shown only now)",
          status=201, operator_only=True, response=responses.obj(token=responses.STR)),
]
