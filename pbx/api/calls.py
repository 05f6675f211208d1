"""Call records and reports (contract: "Calls and recordings"). Read-only."""
from __future__ import annotations

from aiohttp import web

from pbx.api import responses
from pbx.api.agents import own_extension
from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_response
from pbx.api.present import TENANT_TZ, timestamp
from pbx.api.routes import Route
from pbx.calls import listing, query, reports
from pbx.db.models import Call
from pbx.domain.plans import PLANS, require_feature
from pbx.services.tenants import visible_tenant

BASE = "/tenants/{tenant_id}"
REPORT_DEFAULT_DAYS, REPORT_MAX_DAYS = 30, 92


def call_item(row: Call, recording_id: int | None) -> dict:
    quality = None
    if row.jitter_ms is not None:
        quality = {"jitter_ms": row.jitter_ms, "loss_percent": row.loss_percent, "rtt_ms": row.rtt_ms}
    return {
        "id": row.id, "started_at": timestamp(row.started_at), "answered_at": timestamp(row.answered_at),
        "ended_at": timestamp(row.ended_at), "direction": row.direction, "caller": row.caller,
        "callee": row.callee, "number": row.number, "disposition": row.disposition,
        "duration_s": row.duration_s, "billsec": row.billsec, "recording_id": recording_id,
        "extension": row.extension, "quality": quality,
    }


async def list_calls(request: web.Request) -> web.Response:
    params = request.query
    start, end = query.parse_range(params.get("from"), params.get("to"))
    number = query.parse_number(params.get("number"))
    cursor, limit = query.decode_cursor(params.get("cursor")), query.parse_limit(params.get("limit"))
    tenant_id, me = path_id(request, "tenant_id"), principal(request)
    own = own_extension(me)  # an agent sees its own extension's calls only
    async with request.app[DATABASE].read() as session:
        await visible_tenant(session, me, tenant_id)
        rows, following = await listing.list_calls(session, tenant_id, start, end, number, cursor, limit,
                                                   extension=own)
    return json_response({"items": [call_item(*row) for row in rows], "next": following})


def _report_range(request: web.Request):
    return query.parse_range(request.query.get("from"), request.query.get("to"),
                             default_days=REPORT_DEFAULT_DAYS, max_days=REPORT_MAX_DAYS)


async def basic_report(request: web.Request) -> web.Response:
    start, end = _report_range(request)
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].read() as session:
        await visible_tenant(session, principal(request), tenant_id)
        report = await reports.basic(session, tenant_id, start, end, TENANT_TZ)
    return json_response({"from": timestamp(start), "to": timestamp(end), **report})


async def detailed_report(request: web.Request) -> web.Response:
    start, end = _report_range(request)
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].read() as session:
        tenant = await visible_tenant(session, principal(request), tenant_id)
        require_feature(PLANS[tenant.plan], "detailed_reports")
        report = await reports.detailed(session, tenant_id, start, end, TENANT_TZ)
    report["missed_calls"] = [call_item(row, None) for row in report["missed_calls"]]
    return json_response({"from": timestamp(start), "to": timestamp(end), **report})


ROUTES = [
    Route("GET", BASE + "/calls", list_calls, "Call records, newest first (from/to RFC 3339, number, cursor)",
          query=("from", "to", "number", "cursor", "limit"), response=responses.items(responses.CALL, True)),
    Route("GET", BASE + "/reports/basic", basic_report, "Calls, answered, missed and minutes per day",
          query=("from", "to"), response=responses.BASIC_REPORT),
    Route("GET", BASE + "/reports/detailed", detailed_report,
          "Per extension, number and hour; average wait and talk time; missed calls (KOBİ and up)",
          query=("from", "to"), response=responses.DETAILED_REPORT, gated=True),
]
