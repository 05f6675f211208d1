from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from pbx.api import crud, responses
from pbx.api.schemas import DestinationJson
from pbx.services import numbers

BASE = "/tenants/{tenant_id}/numbers"


class NumberCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    destination: DestinationJson


class NumberPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    destination: DestinationJson


def present(row) -> dict:
    return {"id": row.id, "number": row.number, "destination": row.destination}


ROUTES = crud.routes(crud.Resource(
    BASE, "number_id", "number", "number (stored in E.164)", NumberCreate, NumberPatch, present,
    numbers.list_numbers, numbers.get_number, numbers.create_number, numbers.update_number, numbers.delete_number,
    schema=responses.NUMBER,
))
