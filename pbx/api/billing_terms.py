"""The commitment's moves: a plan change (upgrade now and pro rata, downgrade at renewal),
converting a trial, and running the terms pass now (reminders, suspension, renewal)."""
from __future__ import annotations

from aiohttp import web

from pbx.api import responses
from pbx.api.billing import present_terms
from pbx.api.context import BILLING, DATABASE, PLAN_CHANGES, TERMS, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.routes import Route
from pbx.api.schemas import Body, PlanCode
from pbx.services.tenants import require_operator, visible_tenant


class PlanChange(Body):
    plan: PlanCode


async def change_plan(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = PlanChange.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        result = await request.app[PLAN_CHANGES].change(unit, principal(request), tenant_id, body.plan)
    return json_response(result)


async def convert_trial(request: web.Request) -> web.Response:
    tenant_id, billing = path_id(request, "tenant_id"), request.app[BILLING]
    async with request.app[DATABASE].unit() as unit:
        await request.app[PLAN_CHANGES].convert(unit, principal(request), tenant_id)
    async with request.app[DATABASE].read() as session:
        account = await billing.account(session, await visible_tenant(session, principal(request), tenant_id))
    return json_response(present_terms(account, billing.catalogue.commitment_months))


async def run_terms(request: web.Request) -> web.Response:
    require_operator(principal(request))
    return json_response(await request.app[TERMS].run())


PLAN_CHANGED = responses.obj(plan=responses.STR, effective={"type": "string", "enum": ["now", "renewal"]},
                             charge=responses.nullable(responses.MONEY), pending_plan=responses.nullable(responses.STR))
TERMS_RUN = responses.obj(reminders=responses.INT, suspended=responses.INT, renewed=responses.INT)
ROUTES = [
    Route("POST", "/tenants/{tenant_id}/billing/plan-change", change_plan,
          "Change plan under the commitment: an upgrade now, charged pro rata; a downgrade at renewal",
          body=PlanChange, operator_only=True, response=PLAN_CHANGED),
    Route("POST", "/tenants/{tenant_id}/billing/convert", convert_trial,
          "Convert a trial: the 12-month term starts now and a suspension ends", operator_only=True,
          response=responses.BILLING_TERMS),
    Route("POST", "/billing/terms/run", run_terms, "Run the terms pass now (reminders, suspension, renewal)",
          operator_only=True, response=TERMS_RUN),
]
