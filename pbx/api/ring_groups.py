from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pbx.api import crud, responses
from pbx.api.present import timestamp
from pbx.api.schemas import DestinationJson, ExtensionNumber, Name
from pbx.services.ring_groups import RING_GROUPS

BASE = "/tenants/{tenant_id}/ring_groups"
Members = Annotated[list[ExtensionNumber], Field(min_length=1, max_length=30)]
RingSeconds = Annotated[int, Field(ge=5, le=300)]


class RingGroupCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name
    extensions: Members
    strategy: Literal["all", "sequential"] = "all"
    ring_seconds: RingSeconds = 20
    next_destination: DestinationJson | None = None


class RingGroupPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Name = None
    extensions: Members = None
    strategy: Literal["all", "sequential"] = None
    ring_seconds: RingSeconds = None
    next_destination: DestinationJson | None = None


def present(row) -> dict:
    return {"id": row.id, "name": row.name, "extensions": row.extensions, "strategy": row.strategy,
            "ring_seconds": row.ring_seconds, "next_destination": row.next_destination,
            "created_at": timestamp(row.created_at)}


ROUTES = crud.routes(crud.Resource(
    BASE, "ring_group_id", "ring_group", "ring group (ring_seconds: per phone when sequential)",
    RingGroupCreate, RingGroupPatch, present,
    RING_GROUPS.list, RING_GROUPS.get, RING_GROUPS.create, RING_GROUPS.update, RING_GROUPS.delete,
    schema=responses.RING_GROUP,
))
