"""Bodies and response schemas of the provisioning-job endpoints (pbx/api/jobs.py)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pbx.api.schemas import Body, PlanCode, TenantCreate

MAX_TENANTS_PER_PLAN_CHANGE = 10_000


class TenantImportBody(Body):
    tenant: TenantCreate
    # Raw rows: each is checked by the job, so every bad one is reported with its row number.
    extensions: Annotated[list[dict], Field(max_length=100_000)] = []


class PlanChangeBody(Body):
    tenant_ids: Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]],
                          Field(min_length=1, max_length=MAX_TENANTS_PER_PLAN_CHANGE)]
    plan: PlanCode
    extra_extensions: Annotated[int, Field(ge=0, le=100_000)] = None


_TIME = {"type": "string", "format": "date-time"}
_STATUS = {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]}
_ROW_ERROR = {
    "type": "object", "required": ["row", "code", "message"],
    "properties": {"row": {"type": "integer", "minimum": 1},
                   "code": {"type": "string", "enum": ["invalid", "conflict", "plan_limit", "feature_not_in_plan",
                                                       "not_found"]},
                   "message": {"type": "string"}},
}
JOB = {
    "type": "object",
    "required": ["id", "kind", "tenant_id", "status", "mode", "total", "done", "failed", "created_at",
                 "finished_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["extensions.import", "tenant.import", "tenants.plan_change"]},
        "tenant_id": {"type": "integer", "nullable": True},
        "status": _STATUS,
        "mode": {"type": "string", "enum": ["atomic", "each"]},
        "total": {"type": "integer"}, "done": {"type": "integer"}, "failed": {"type": "integer"},
        "created_at": _TIME, "finished_at": {**_TIME, "nullable": True},
        "result_read": {"type": "boolean"},
    },
}
JOB_WITH_ERRORS = {**JOB, "required": [*JOB["required"], "errors"],
                   "properties": {**JOB["properties"], "errors": {"type": "array", "items": _ROW_ERROR}}}
JOB_ACCEPTED = {"type": "object", "required": ["job"], "properties": {"job": JOB}}
JOB_LIST = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": JOB}}}
RESULT_CSV = {"type": "string", "description": "header row,number,id,sip_username,sip_password"}
EXPORT_CSV = {"type": "string", "description": "header number,name,email,voicemail,record_calls"}
IMPORT_BODY = {
    "text/csv": {"schema": {"type": "string", "description":
                            "header row with number,name,email,voicemail,record_calls (or FreePBX Bulk Handler's "
                            "extension,name,...,email); ',' ';' or tab separated; UTF-8 or Windows-1254"}},
    "application/json": {"schema": {"type": "object", "required": ["rows"], "properties": {
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/ExtensionCreate"}}}}},
}
