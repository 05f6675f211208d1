"""Destinations: where a call goes (numbers, IVR options, schedules).

Validated shapes of the contract, and the references each one makes, so that
services can check them against the tenant and routing can load just those.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from pbx.domain.numbers import EXTENSION_NUMBER

ExtensionRef = Annotated[str, StringConstraints(pattern=EXTENSION_NUMBER.pattern)]
ObjectId = Annotated[int, Field(ge=1, le=2**53)]


class _Dest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ExtensionDest(_Dest):
    type: Literal["extension"]
    extension: ExtensionRef


class VoicemailDest(_Dest):
    type: Literal["voicemail"]
    extension: ExtensionRef


class IvrDest(_Dest):
    type: Literal["ivr"]
    ivr_id: ObjectId


class RingGroupDest(_Dest):
    type: Literal["ring_group"]
    ring_group_id: ObjectId


class AnnouncementDest(_Dest):
    type: Literal["announcement"]
    prompt_id: ObjectId


class HangupDest(_Dest):
    type: Literal["hangup"]


class ScheduleDest(_Dest):
    type: Literal["schedule"]
    schedule_id: ObjectId
    open: "Destination"
    closed: "Destination"


Destination = Annotated[
    Union[ExtensionDest, VoicemailDest, IvrDest, RingGroupDest, AnnouncementDest, HangupDest, ScheduleDest],
    Field(discriminator="type"),
]
ScheduleDest.model_rebuild()
DESTINATION = TypeAdapter(Destination)


@dataclass
class References:
    extensions: set[str] = field(default_factory=set)
    prompts: set[int] = field(default_factory=set)
    ivrs: set[int] = field(default_factory=set)
    ring_groups: set[int] = field(default_factory=set)
    schedules: set[int] = field(default_factory=set)
    voicemail: set[str] = field(default_factory=set)  # extensions whose box is a destination


def references(dest, refs: References | None = None) -> References:
    refs = refs or References()
    match dest:
        case ExtensionDest(extension=number):
            refs.extensions.add(number)
        case VoicemailDest(extension=number):
            refs.extensions.add(number)
            refs.voicemail.add(number)
        case AnnouncementDest(prompt_id=prompt_id):
            refs.prompts.add(prompt_id)
        case IvrDest(ivr_id=ivr_id):
            refs.ivrs.add(ivr_id)
        case RingGroupDest(ring_group_id=group_id):
            refs.ring_groups.add(group_id)
        case ScheduleDest(schedule_id=schedule_id, open=when_open, closed=when_closed):
            refs.schedules.add(schedule_id)
            references(when_open, refs)
            references(when_closed, refs)
    return refs


def parse(data) -> object:
    return DESTINATION.validate_python(data)


def dump(dest) -> dict:
    return dest.model_dump()
