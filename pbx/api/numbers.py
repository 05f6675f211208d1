from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from pbx.api import crud
from pbx.services import numbers

BASE = "/tenants/{tenant_id}/numbers"


class NumberCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    destination: dict[str, Any]


class NumberPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    destination: dict[str, Any]


def present(row) -> dict:
    return {"id": row.id, "number": row.number, "destination": row.destination}


ROUTES = crud.routes(crud.Resource(
    BASE, "number_id", "number", "number (stored in E.164)", NumberCreate, NumberPatch, present,
    numbers.list_numbers, numbers.get_number, numbers.create_number, numbers.update_number, numbers.delete_number,
))
