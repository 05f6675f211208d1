"""Service performance and RFO reports as JSON, PDF or xlsx (by the Accept header)."""
from __future__ import annotations

from aiohttp import web

from pbx.api import ops_schemas
from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_response
from pbx.api.routes import Route
from pbx.db.models import Trunk
from pbx.domain.errors import Invalid
from pbx.ops import documents, reports
from pbx.ops import faults as fault_store
from pbx.services.tenants import require_operator, visible_tenant

_OBJECT = {"type": "object"}


def _month(request: web.Request) -> str:
    try:
        return reports.valid_month(request.query.get("month"))
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


def _answer(request: web.Request, data: dict, pdf, xlsx, name: str) -> web.Response:
    accept = request.headers.get("Accept", "")
    if documents.PDF in accept:
        return _file(pdf(), documents.PDF, f"{name}.pdf")
    if documents.XLSX in accept:
        return _file(xlsx(), documents.XLSX, f"{name}.xlsx")
    return json_response(data)


def _file(body: bytes, media: str, filename: str) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": media,
                                            "Content-Disposition": f'attachment; filename="{filename}"'})


async def platform_performance(request: web.Request) -> web.Response:
    require_operator(principal(request))
    month = _month(request)
    async with request.app[DATABASE].read() as session:
        report = await reports.service_performance(session, month)
    return _answer(request, report, lambda: documents.performance_pdf(report, f"Servis Performans Raporu – {month}"),
                   lambda: documents.performance_xlsx(report), f"servis-performans-{month}")


async def tenant_performance(request: web.Request) -> web.Response:
    tenant_id, month = path_id(request, "tenant_id"), _month(request)
    async with request.app[DATABASE].read() as session:
        tenant = await visible_tenant(session, principal(request), tenant_id)
        report = await reports.service_performance(session, month, tenant_id)
    title = f"Servis Performans Raporu – {tenant.name} – {month}"
    return _answer(request, report, lambda: documents.performance_pdf(report, title),
                   lambda: documents.performance_xlsx(report), f"servis-performans-{tenant_id}-{month}")


async def fault_rfo(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        fault = await fault_store.get_fault(session, principal(request), path_id(request, "fault_id"))
        trunk = await session.get(Trunk, fault.trunk_id) if fault.trunk_id else None
        data = reports.rfo(fault, trunk.name if trunk else None)
    return _answer(request, data, lambda: documents.rfo_pdf(data), lambda: documents.rfo_xlsx(data),
                   f"rfo-{fault.id}")


ROUTES = [
    Route("GET", "/reports/service-performance", platform_performance,
          "Platform service performance, 12 months to `month` (JSON, PDF or xlsx by Accept)", operator_only=True,
          query=("month",), response=ops_schemas.PERFORMANCE),
    Route("GET", "/tenants/{tenant_id}/reports/service-performance", tenant_performance,
          "A tenant's service performance and availability against its package (JSON, PDF or xlsx)",
          query=("month",), response=ops_schemas.PERFORMANCE),
    Route("GET", "/faults/{fault_id}/rfo", fault_rfo, "A fault's root-cause report (JSON, PDF or xlsx)",
          response=_OBJECT),
]
