"""AGI handlers: the call's facts and the routing snapshot go to a pure decision
(pbx/routing/decisions.py), which is applied to the channel. The decision reads no
database; the one write on this path is voicemail's message row
(VoicemailService.start_message), made before the caller is sent to record."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from pbx.agi import channelvars
from pbx.agi.server import Session, set_variables
from pbx.cluster.dial import through_proxy
from pbx.domain.recording import new_spool_name
from pbx.routing import decisions
from pbx.routing.decision import Decision
from pbx.routing.snapshot import Snapshot
from pbx.security.guard import FraudGuard
from pbx.services.routing_snapshot import RoutingSnapshots
from pbx.services.voicemail import VoicemailService


def _args(request: Session, count: int) -> list[str]:
    return [request.headers.get(f"agi_arg_{i}", "") for i in range(1, count + 1)]


@dataclass
class _Handler:
    snapshots: RoutingSnapshots
    voicemail: VoicemailService
    guard: FraudGuard | None = None  # toll-fraud limits on outbound calls (RouteHandler)
    cluster_proxy: str = ""  # host:port of Kamailio when this node is one of a cluster (pbx/cluster/dial.py)

    def decide(self, request: Session, snap: Snapshot) -> tuple[Decision, str]:
        """The decision from the call's facts and a snapshot, and the number the caller
        dialled (a recording's name carries it). Pure."""
        raise NotImplementedError

    async def __call__(self, request: Session) -> None:
        decision, callee = self.decide(request, await self.snapshots.get())
        await apply(request, self._placed(decision), self.voicemail, callee)

    def _placed(self, decision: Decision) -> Decision:
        if not (self.cluster_proxy and decision.dial):
            return decision
        return replace(decision, dial=through_proxy(decision.dial, self.cluster_proxy))

    def decide_now(self, request: Session) -> list[tuple[str, str]] | None:
        """The variables to set, if they can be had without waiting: the snapshot is current
        (no write since its build) and the decision needs nothing else (a voicemail needs a
        database row first). None: the call goes the async way, __call__."""
        if self.snapshots.stale:
            return None
        decision, callee = self.decide(request, self.snapshots.current)
        if decision.action == "voicemail":
            return None
        return variables(self._placed(decision), request.headers.get("agi_callerid", ""), callee)


class RouteHandler(_Handler):
    """Calls from an extension. Args: the calling endpoint."""

    def decide(self, request: Session, snap: Snapshot) -> tuple[Decision, str]:
        dialled, endpoint, now = request.headers.get("agi_extension", ""), _args(request, 1)[0], _now()
        decision = decisions.from_extension_call(snap, endpoint, dialled, now)
        if self.guard is not None and decision.action == "outbound":
            decision = self.guard.check(decision, endpoint, snap.tenants.get(decision.tenant_id), dialled, now)
        return decision, dialled


class InboundHandler(_Handler):
    """Calls from a trunk: the number in the request URI decides, whichever tenant holds it."""

    def decide(self, request: Session, snap: Snapshot) -> tuple[Decision, str]:
        dialled = request.headers.get("agi_extension", "")
        return decisions.from_trunk(snap, _args(request, 1)[0], dialled, _now()), dialled


class AfterHandler(_Handler):
    """An unanswered call goes on: "rg:<id>" to the ring group's next destination,
    "vm:<extension id>" to that extension's voicemail. Args: tenant, what next."""

    def decide(self, request: Session, snap: Snapshot) -> tuple[Decision, str]:
        return decisions.after_unanswered(snap, *_args(request, 2), _now()), request.headers.get("agi_dnid", "")


class IvrHandler(_Handler):
    """A key pressed (or none) in a menu: arguments tenant, IVR, attempt, key."""

    def decide(self, request: Session, snap: Snapshot) -> tuple[Decision, str]:
        return decisions.menu_key(snap, *_args(request, 4), _now()), request.headers.get("agi_dnid", "")


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def apply(request: Session, decision: Decision, voicemail: VoicemailService, callee: str = "") -> None:
    """callee: the number the caller dialled (the recording's name carries it)."""
    if decision.action == "voicemail":
        caller = request.headers.get("agi_callerid", "")
        playback = await voicemail.start_message(decision.tenant_id, decision.voicemail_ext, caller)
        decision = replace(decision, playback=playback)
    await set_variables(request, variables(decision, request.headers.get("agi_callerid", ""), callee))


def variables(decision: Decision, caller: str, callee: str) -> list[tuple[str, str]]:
    """The channel variables a decision sets, in order. NOTICE and AFTER are always set
    (possibly empty) so that nothing stale from an earlier step survives."""
    pairs = []
    if decision.tenant_id is not None:
        pairs.append((channelvars.TENANT, str(decision.tenant_id)))
    if decision.dial:
        pairs += [(channelvars.DIAL, decision.dial), (channelvars.RING_SECONDS, str(decision.ring_seconds))]
    if decision.playback:
        pairs.append((channelvars.PLAYBACK, decision.playback))
    if decision.ivr_id is not None:
        pairs += [(channelvars.IVR, str(decision.ivr_id)), (channelvars.ATTEMPT, str(decision.attempt)),
                  (channelvars.TIMEOUT, str(decision.timeout_s))]
    pairs += [(channelvars.NOTICE, decision.notice), (channelvars.AFTER, decision.after)]
    if decision.caller_id:
        pairs.append((channelvars.CALLER_ID, decision.caller_id))
    if decision.record and decision.tenant_id is not None:
        pairs.append((channelvars.RECORD, new_spool_name(decision.tenant_id, caller, callee).stem))
    if decision.recording_notice:
        pairs.append((channelvars.RECORDING_NOTICE, decision.recording_notice))
    if decision.max_calls:
        pairs.append((channelvars.MAX_CALLS, str(decision.max_calls)))
    # Last: the dialplan treats a missing action as a failure.
    pairs.append((channelvars.ACTION, decision.action))
    return pairs
