"""Click-to-call (contract: "Click-to-call"): the extension's phone rings first; once it
is answered, its channel dials `to` through the dialplan's [pbx-c2c], which hands it to
the same routing as the extension's own dialling ([pbx-internal], the FastAGI route
decision, the toll-fraud guard and the concurrent-call cap). The API first makes that
decision once on the current snapshot, so a call the routing would refuse is refused
with the contract's error code instead of ringing the agent for nothing."""
from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timezone

from sqlalchemy import select

from pbx.asterisk.ami import Ami
from pbx.db.models import Extension
from pbx.db.unit import Database
from pbx.domain.errors import Conflict, FeatureNotInPlan, Invalid, PlanLimit
from pbx.routing import decisions
from pbx.security.guard import FraudGuard
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.services.tenants import visible_tenant
from pbx.services.tokens import Principal

CONTEXT = "pbx-c2c"  # dialplans/pbx.conf
ROUTE = "c2c"  # PBX_ROUTE on the rung channel until it dials: how its Dial events are told apart
RING_S = 30
_SEPARATORS = re.compile(r"[ \-().]")
_DIGITS = re.compile(r"^[0-9]{2,20}$")


def dialled_form(to: str) -> str:
    """`to` as the extension would dial it: digits only (spaces, dashes, dots and brackets
    dropped); E.164 `+90...` becomes national `0...`, any other `+...` international `00...`.
    Anything else (letters, `;`, `,`, `|`, control characters, `*`, `#`) is refused."""
    text = _SEPARATORS.sub("", to.strip()) if isinstance(to, str) else ""
    if text.startswith("+90"):
        text = "0" + text[3:]
    elif text.startswith("+"):
        text = "00" + text[1:]
    if not text.isascii() or not _DIGITS.match(text):
        raise Invalid("to: a phone number or an extension number (digits, optionally +, spaces, dashes)")
    return text


def new_call_id() -> str:
    """The rung channel's uniqueid, hence the call's linkedid. Shaped as Asterisk's own
    (<epoch>.<n>; call records accept only that), with a 10-digit random n that Asterisk's
    own counter, which starts at 0 with every start, does not reach."""
    return f"{int(time.time())}.{1_000_000_000 + secrets.randbelow(9_000_000_000)}"


def refusal(action: str, limit: str | None):
    """The contract's error for a decision that would not connect, or None."""
    if limit is not None:
        return PlanLimit(f"the tenant's toll-fraud limit {limit} refuses this call now")
    if action == "unknown":
        return Invalid("to: not a number this extension can call")
    if action == "refused":
        return FeatureNotInPlan("international calls are not enabled for this tenant")
    if action == "failure":
        return Conflict("no route for this call now (no outbound trunk or no public number)")
    return None


class ClickToCall:
    def __init__(self, ami: Ami, snapshots: RoutingSnapshots, guard: FraudGuard):
        self.ami, self.snapshots, self.guard = ami, snapshots, guard

    async def place(self, database: Database, principal: Principal, tenant_id: int, number: str, to: str) -> str:
        """The call's id (the linkedid its events and call record carry). The database is read
        and let go before Asterisk is asked anything."""
        async with database.read() as session:
            await visible_tenant(session, principal, tenant_id)
            dialled = dialled_form(to)
            sip_id = await session.scalar(select(Extension.sip_username).where(Extension.tenant_id == tenant_id,
                                                                                Extension.number == number))
        if sip_id is None:
            raise Invalid("extension: no such extension in this tenant")
        await self._check_route(sip_id, dialled)
        if not await self.ami.contacts(sip_id):
            raise Conflict("extension: its phone is not registered")
        call_id = new_call_id()
        await self.ami.originate(sip_id, CONTEXT, dialled, channel_id=call_id, caller_id=dialled,
                                 variables={"PBX_TENANT": str(tenant_id), "PBX_ROUTE": ROUTE,
                                            "PBX_DIALLED": dialled},
                                 ring_s=RING_S)
        return call_id

    async def _check_route(self, sip_id: str, dialled: str) -> None:
        snap, now = await self.snapshots.get(), datetime.now(timezone.utc)
        decision = decisions.from_extension_call(snap, sip_id, dialled, now)
        limit = self.guard.limit_for(decision, sip_id, snap.tenants.get(decision.tenant_id), dialled, now)
        error = refusal(decision.action, limit)
        if error is not None:
            raise error

