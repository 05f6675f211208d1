from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pbx.api import crud, responses
from pbx.api.present import timestamp
from pbx.api.schemas import Name
from pbx.services.schedules import SCHEDULES

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


ROUTES = crud.routes(crud.Resource(
    BASE, "schedule_id", "schedule", "schedule (KOBİ and up)", ScheduleCreate, SchedulePatch, present,
    SCHEDULES.list, SCHEDULES.get, SCHEDULES.create, SCHEDULES.update, SCHEDULES.delete,
    schema=responses.SCHEDULE,
))
