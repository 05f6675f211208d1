"""Call recording rules: pure functions over plain data.

A recorded call is written by Asterisk into its spool under a *stem* the control
plane chooses when it routes the call. The stem alone says whose recording it is
and what call it belongs to, so a recording left behind by a crash (of either
process) can always be archived without any other record of it."""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pbx.domain.plans import Plan

_PARTY = re.compile(r"[^0-9+]")
_STEM = re.compile(r"^t(?P<tenant>[0-9]{1,12})_(?P<started>[0-9]{8}T[0-9]{6}Z)_(?P<caller>[0-9+]{0,20})_"
                   r"(?P<callee>[0-9+]{0,20})_(?P<file_id>[0-9a-f]{32})$")
_STARTED = "%Y%m%dT%H%M%SZ"

# An Asterisk sound path (no extension) of the KVKK notice, shipped with the package.
NOTICE_SOUND = "/srv/pbx/sounds/recording-notice"


def should_record(plan: Plan | None, record_flags: Iterable[bool]) -> bool:
    """A call is recorded when the plan records and an extension on it asks for it
    (no plan known: not recorded)."""
    return plan is not None and plan.recording and any(record_flags)


def wants_notice(plan: Plan, recording_notice: bool, tenant_records: bool) -> bool:
    """Inbound callers of a tenant that records hear the notice, unless it is switched off."""
    return plan.recording and recording_notice and tenant_records


def retention_deadline(started_at: datetime, plan: Plan) -> datetime | None:
    """When a recording made under this plan must be gone; None if the plan keeps none."""
    if plan.recording_retention_days is None:
        return None
    return started_at + timedelta(days=plan.recording_retention_days)


def party(value: str) -> str:
    """A caller or callee as the stem holds it: digits and '+', at most 20."""
    return _PARTY.sub("", value)[:20]


@dataclass(frozen=True)
class SpoolName:
    tenant_id: int
    started_at: datetime
    caller: str
    callee: str
    file_id: str

    @property
    def stem(self) -> str:
        return (f"t{self.tenant_id}_{self.started_at.strftime(_STARTED)}_{self.caller}_"
                f"{self.callee}_{self.file_id}")


def new_spool_name(tenant_id: int, caller: str, callee: str, now: datetime | None = None) -> SpoolName:
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    return SpoolName(tenant_id, started, party(caller), party(callee), secrets.token_hex(16))


def parse_stem(stem: str) -> SpoolName | None:
    """The inverse of SpoolName.stem; None for anything we did not name."""
    match = _STEM.fullmatch(stem)  # not match(): "$" would accept a trailing newline
    if match is None:
        return None
    started = datetime.strptime(match["started"], _STARTED).replace(tzinfo=timezone.utc)
    return SpoolName(int(match["tenant"]), started, match["caller"], match["callee"], match["file_id"])
