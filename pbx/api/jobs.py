"""Provisioning jobs over HTTP: imports are accepted as jobs (202) and followed at /jobs."""
from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from pbx.api import job_schemas as schemas
from pbx.api.context import DATABASE, EXTENSIONS, JOBS, SEALER, SETTINGS, path_id, principal
from pbx.api.errors import json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.db.models import Job
from pbx.domain.errors import Conflict, Invalid, TooLarge
from pbx.jobs import csvfile, store
from pbx.services.tenants import require_operator, visible_tenant

_CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
RESULT_HEADER = ("row", "number", "id", "sip_username", "sip_password")
EXPORT_HEADER = csvfile.FIELDS
_TOO_LARGE = (("413", "over the import's size or row limit"),)


def present_job(job: Job, errors: list | None = None) -> dict:
    out = {"id": job.id, "kind": job.kind, "tenant_id": job.tenant_id, "status": job.status, "mode": job.mode,
           "total": job.total, "done": job.done, "failed": job.failed, "created_at": timestamp(job.created_at),
           "finished_at": timestamp(job.finished_at), "result_read": job.result_read_at is not None}
    if errors is not None:
        out["errors"] = [{"row": r.row, "code": r.code, "message": r.message} for r in errors]
    return out


def _mode(request: web.Request) -> str:
    mode = request.query.get("mode", "atomic")
    if mode not in ("atomic", "each"):
        raise Invalid("mode is atomic or each")
    return mode


async def _capped_body(request: web.Request) -> bytes:
    """Read past the app's 1 MiB body limit, up to the import limit (413 beyond)."""
    limit = request.app[SETTINGS].import_max_bytes
    if request.content_length and request.content_length > limit:
        raise TooLarge(f"an import is at most {limit} bytes")
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise TooLarge(f"an import is at most {limit} bytes")
    return bytes(data)


async def _rows(request: web.Request) -> list:
    max_rows = request.app[SETTINGS].import_max_rows
    data = await _capped_body(request)
    if request.content_type == "application/json":
        rows = csvfile.parse_json(data, max_rows)
    elif request.content_type in _CSV_TYPES:
        rows = csvfile.parse_csv(csvfile.decode(data, request.charset), max_rows)
    else:
        raise Invalid("send the rows as text/csv or application/json")
    if not rows:
        raise Invalid("the file has no rows")
    return rows


async def _queue(request: web.Request, kind: str, tenant_id: int | None, mode: str, params: dict,
                 rows: list) -> web.Response:
    async with request.app[DATABASE].unit() as unit:
        job = await store.create_job(unit.session, kind, tenant_id, mode, params, rows)
    request.app[JOBS].wake()
    return json_response({"job": present_job(job)}, status=202)


async def import_extensions(request: web.Request) -> web.Response:
    tenant_id, mode = path_id(request, "tenant_id"), _mode(request)
    async with request.app[DATABASE].read() as session:
        await visible_tenant(session, principal(request), tenant_id)  # 404 before the upload is read
    return await _queue(request, "extensions.import", tenant_id, mode, {}, await _rows(request))


async def import_tenant(request: web.Request) -> web.Response:
    require_operator(principal(request))
    mode = _mode(request)
    body = schemas.TenantImportBody.model_validate(await _json(request))
    if len(body.extensions) > request.app[SETTINGS].import_max_rows:
        raise TooLarge(f"at most {request.app[SETTINGS].import_max_rows} rows per import")
    return await _queue(request, "tenant.import", None, mode, {"tenant": body.tenant.model_dump()},
                        body.extensions)


async def change_plans(request: web.Request) -> web.Response:
    require_operator(principal(request))
    body = schemas.PlanChangeBody.model_validate(await _json(request))
    fields = body.model_dump(exclude_none=True, exclude={"tenant_ids"})
    rows = [{"tenant_id": tid} for tid in dict.fromkeys(body.tenant_ids)]
    return await _queue(request, "tenants.plan_change", None, "each", fields, rows)


async def _json(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise Invalid("send application/json")
    return csvfile.parse_json_object(await _capped_body(request))


async def get_job(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        job = await store.visible_job(session, principal(request), path_id(request, "job_id"))
        errors = await store.failed_rows(session, job.id)
    return json_response(present_job(job, errors))


async def list_jobs(request: web.Request) -> web.Response:
    raw = request.query.get("tenant_id")
    if raw is not None and not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31):
        raise Invalid("tenant_id is a tenant's id")
    async with request.app[DATABASE].read() as session:
        jobs = await store.list_jobs(session, principal(request), int(raw) if raw else None)
    return json_response({"items": [present_job(job) for job in jobs]})


async def cancel_job(request: web.Request) -> web.Response:
    async with request.app[DATABASE].unit() as unit:
        job = await request.app[JOBS].cancel(unit, principal(request), path_id(request, "job_id"))
    return json_response(present_job(job))


async def job_result(request: web.Request) -> web.StreamResponse:
    """The passwords are shown once: the download is claimed first (a second reader gets
    409), the seals are deleted only once the whole file has been sent, and a download that
    broke off can be repeated."""
    job_id, database = path_id(request, "job_id"), request.app[DATABASE]
    async with database.unit() as unit:
        job = await store.visible_job(unit.session, principal(request), job_id)
        await unit.session.refresh(job, with_for_update=True)  # PostgreSQL: one claim at a time
        _check_result_ready(job)
        job.result_read_at = datetime.now(timezone.utc)
        rows = await store.done_rows(unit.session, job.id)
    sealer = request.app[SEALER]
    body = csvfile.write_csv(RESULT_HEADER, (
        (r.row, r.input.get("number"), r.object_id, r.sip_username,
         sealer.open(r.secret, f"{job.id}:{r.row}") if r.secret else "") for r in rows))
    try:
        response = await _send_csv(request, body, f"job-{job.id}-result.csv")
    except BaseException:
        async with database.unit() as unit:
            (await unit.session.get(Job, job.id)).result_read_at = None
        raise
    async with database.unit() as unit:
        await store.wipe_secrets(unit.session, job.id, job.result_read_at)
    return response


def _check_result_ready(job: Job) -> None:
    if job.kind not in ("extensions.import", "tenant.import"):
        raise Conflict("this job makes no result file: its rows are in GET /jobs/{id}")
    if job.status not in ("succeeded", "cancelled"):
        raise Conflict(f"the job is {job.status}: no result yet")
    if job.result_read_at is not None:
        raise Conflict("the result was downloaded already; SIP passwords are shown once "
                       "(POST .../extensions/{id}/sip-password issues a new one)")


async def export_extensions(request: web.Request) -> web.StreamResponse:
    tenant_id = path_id(request, "tenant_id")
    async with request.app[DATABASE].read() as session:
        rows = await request.app[EXTENSIONS].list(session, principal(request), tenant_id)
    body = csvfile.write_csv(EXPORT_HEADER, (
        (r.number, r.name, r.email, r.voicemail, r.record_calls) for r in rows))
    return await _send_csv(request, body, f"tenant-{tenant_id}-extensions.csv")


async def _send_csv(request: web.Request, body: str, filename: str) -> web.StreamResponse:
    """UTF-8 with a BOM, so Excel shows Turkish letters right; imports strip it again."""
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{filename}"'})
    await response.prepare(request)
    await response.write(("\ufeff" + body).encode())
    await response.write_eof()
    return response


ROUTES = [
    Route("POST", "/tenants/{tenant_id}/extensions/import", import_extensions,
          "Import extensions from CSV or JSON as a job (mode=atomic: all or nothing; each: the valid rows)",
          status=202, query=("mode",), raw_body=schemas.IMPORT_BODY, response=schemas.JOB_ACCEPTED,
          errors=_TOO_LARGE),
    Route("GET", "/tenants/{tenant_id}/extensions/export", export_extensions,
          "The tenant's extensions as CSV (no passwords), importable again", response=schemas.EXPORT_CSV,
          produces="text/csv"),
    Route("POST", "/tenants/import", import_tenant,
          "Create a tenant with its extensions in one job (operator)", status=202, operator_only=True,
          query=("mode",), body=schemas.TenantImportBody, response=schemas.JOB_ACCEPTED, errors=_TOO_LARGE),
    Route("POST", "/tenants/plan-change", change_plans, "Move many tenants to one plan in one job (operator)",
          status=202, operator_only=True, body=schemas.PlanChangeBody, response=schemas.JOB_ACCEPTED),
    Route("GET", "/jobs", list_jobs, "List jobs, newest first (at most 200); a tenant token sees its own",
          query=("tenant_id",), response=schemas.JOB_LIST, errors=(("404", "no such tenant, or another tenant's"),)),
    Route("GET", "/jobs/{job_id}", get_job, "A job's status, counts and every failed row",
          response=schemas.JOB_WITH_ERRORS),
    Route("DELETE", "/jobs/{job_id}", cancel_job, "Cancel a queued or running job (rows already done stay)",
          response=schemas.JOB),
    Route("GET", "/jobs/{job_id}/result", job_result,
          "Created extensions with their SIP passwords, as CSV; downloadable once", response=schemas.RESULT_CSV,
          produces="text/csv"),
]
