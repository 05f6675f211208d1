from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pbx.api import crud, responses
from pbx.api.present import timestamp
from pbx.api.schemas import DestinationJson, Name
from pbx.services.ivrs import IVRS

BASE = "/tenants/{tenant_id}/ivrs"
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Options = Annotated[dict[Key, DestinationJson], Field(max_length=12)]


class IvrCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name
    greeting_prompt_id: Annotated[int, Field(ge=1, le=2**53)]
    options: Options
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    timeout_destination: DestinationJson | None = None


class IvrPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name = None
    greeting_prompt_id: Annotated[int, Field(ge=1, le=2**53)] = None
    options: Options = None
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = None
    max_attempts: Annotated[int, Field(ge=1, le=10)] = None
    timeout_destination: DestinationJson | None = None


def present(row) -> dict:
    return {"id": row.id, "name": row.name, "greeting_prompt_id": row.greeting_prompt_id, "options": row.options,
            "timeout_seconds": row.timeout_seconds, "max_attempts": row.max_attempts,
            "timeout_destination": row.timeout_destination, "created_at": timestamp(row.created_at)}


ROUTES = crud.routes(crud.Resource(
    BASE, "ivr_id", "ivr", "IVR menu", IvrCreate, IvrPatch, present,
    IVRS.list, IVRS.get, IVRS.create, IVRS.update, IVRS.delete, schema=responses.IVR,
))
