from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pbx.api.context import DATABASE, path_id, principal
from pbx.api.errors import json_body, json_response
from pbx.api.present import timestamp
from pbx.api.routes import Route
from pbx.api.schemas import Name, changes
from pbx.services import schedules

BASE = "/tenants/{tenant_id}/schedules"


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not a time zone name (e.g. Europe/Istanbul)") from exc
    return value


def _date(value: str) -> str:
    return date.fromisoformat(value).isoformat()


Zone = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$", max_length=64),
                 AfterValidator(_zone)]
Clock = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class WeeklyRule(_Strict):
    days: Annotated[list[Day], Field(min_length=1, max_length=7)]
    open: Clock
    close: Clock

    @model_validator(mode="after")
    def _not_empty(self):
        if self.open == self.close or self.open == "24:00":
            raise ValueError("open and close must differ, and open cannot be 24:00")
        return self


class Holiday(_Strict):
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_date)]
    name: Name | None = None


class ScheduleCreate(_Strict):
    name: Name
    timezone: Zone = "Europe/Istanbul"
    weekly: Annotated[list[WeeklyRule], Field(max_length=50)]
    holidays: Annotated[list[Holiday], Field(max_length=400)] = []


class SchedulePatch(_Strict):
    name: Name = None
    timezone: Zone = None
    weekly: Annotated[list[WeeklyRule], Field(max_length=50)] = None
    holidays: Annotated[list[Holiday], Field(max_length=400)] = None


def present(row) -> dict:
    return {"id": row.id, "name": row.name, "timezone": row.timezone, "weekly": row.weekly,
            "holidays": row.holidays, "created_at": timestamp(row.created_at)}


def _ids(request: web.Request) -> tuple[int, int]:
    return path_id(request, "tenant_id"), path_id(request, "schedule_id")


async def list_schedules(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        rows = await schedules.list_schedules(session, principal(request), path_id(request, "tenant_id"))
    return json_response({"items": [present(r) for r in rows]})


async def create_schedule(request: web.Request) -> web.Response:
    tenant_id = path_id(request, "tenant_id")
    body = ScheduleCreate.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await schedules.create_schedule(unit, principal(request), tenant_id, body.model_dump())
    return json_response(present(row), status=201)


async def get_schedule(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        row = await schedules.get_schedule(session, principal(request), *_ids(request))
    return json_response(present(row))


async def patch_schedule(request: web.Request) -> web.Response:
    ids = _ids(request)
    body = SchedulePatch.model_validate(await json_body(request))
    async with request.app[DATABASE].unit() as unit:
        row = await schedules.update_schedule(unit, principal(request), *ids, changes(body))
    return json_response(present(row))


async def delete_schedule(request: web.Request) -> web.Response:
    ids = _ids(request)
    async with request.app[DATABASE].unit() as unit:
        await schedules.delete_schedule(unit, principal(request), *ids)
    return web.Response(status=204)


ROUTES = [
    Route("GET", BASE, list_schedules, "List a tenant's schedules"),
    Route("POST", BASE, create_schedule, "Create a schedule (KOBİ and up)", body=ScheduleCreate, status=201),
    Route("GET", BASE + "/{schedule_id}", get_schedule, "Get a schedule"),
    Route("PATCH", BASE + "/{schedule_id}", patch_schedule, "Change only the fields sent", body=SchedulePatch),
    Route("DELETE", BASE + "/{schedule_id}", delete_schedule, "Delete a schedule nothing uses", status=204),
]
