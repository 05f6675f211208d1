"""Request bodies. Strict: wrong types, unknown fields and hostile text are 422."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from pbx.domain.destinations import ExtensionRef

_FORBIDDEN_CHARS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
# Bidi embeddings, overrides and isolates, marks, zero-width characters, BOM: invisible,
# yet they reorder or hide what a phone's caller ID or a panel shows ("abc\u202etxt.exe").
_INVISIBLE_CHARS = re.compile(r"[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _printable(value: str) -> str:
    """Names are shown in phones and panels: no control characters, no lone surrogates,
    no invisible formatting. Refused rather than stripped, so what is stored is what
    the client sent (every name field shares this validator)."""
    if _FORBIDDEN_CHARS.search(value):
        raise ValueError("must not contain control characters or line breaks")
    if _INVISIBLE_CHARS.search(value):
        raise ValueError("must not contain bidi overrides or zero-width characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_printable)]
ExtensionNumber = ExtensionRef  # the same rule wherever an extension is named
PlanCode = Literal["girisimci", "kobi", "enterprise"]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TenantCreate(Body):
    name: Name
    plan: PlanCode
    extra_extensions: Annotated[int, Field(ge=0, le=100_000)] = 0
    international_calls: bool = False
    record_calls: bool = False  # the default of new extensions
    recording_notice: bool = True  # KVKK "this call may be recorded" for inbound callers
    trial: bool = False  # 30 days free (pbx/billing)
    circuit_pricing: bool = False  # seed 001's graduated circuit tariff instead of a plan price


class TenantPatch(Body):
    name: Name = None
    plan: PlanCode = None
    extra_extensions: Annotated[int, Field(ge=0, le=100_000)] = None
    international_calls: bool = None
    record_calls: bool = None
    recording_notice: bool = None
    # Toll-fraud limits (pbx/security/fraud.py), operator-set; null: back to the plan's.
    max_concurrent_calls: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_international_minutes: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    max_call_attempts_per_minute: Annotated[int, Field(ge=1, le=10_000)] | None = None


class ExtensionCreate(Body):
    number: ExtensionNumber
    name: Name
    email: Annotated[EmailStr, StringConstraints(max_length=254)] | None = None
    voicemail: bool = False
    record_calls: bool | None = None  # omitted: the tenant's default


class ExtensionPatch(Body):
    number: ExtensionNumber = None
    name: Name = None
    email: Annotated[EmailStr, StringConstraints(max_length=254)] | None = None
    voicemail: bool = None
    record_calls: bool = None


class TokenCreate(Body):
    # RFC 3339 with offset (JSON has no datetime type, hence not strict); omitted: until revoked
    expires_at: Annotated[AwareDatetime | None, Field(strict=False)] = None

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value):
        if value is not None and value <= datetime.now(timezone.utc):
            raise ValueError("must be in the future")
        return value


# A destination (contract: Destinations) as the request carries it: checked against the
# tenant by pbx/services/destinations.py; documented as the oneOf in pbx/api/responses.py.
DESTINATION_MARK = {"x-pbx-destination": True}  # pydantic resolves a $ref itself; openapi.py swaps this for one
DestinationJson = Annotated[dict[str, Any], WithJsonSchema(DESTINATION_MARK)]


def changes(model: BaseModel) -> dict:
    """Only the fields the client sent: PATCH leaves the rest alone."""
    return model.model_dump(exclude_unset=True)
