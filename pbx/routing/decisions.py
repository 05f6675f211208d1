"""Each AGI route's decision, from the call's facts and a routing snapshot. Pure: the
handlers pass the snapshot and the time; nothing here waits on anything."""
from __future__ import annotations

import re
from datetime import datetime

from pbx.domain.errors import Invalid
from pbx.domain.numbers import DIALLED, to_e164
from pbx.routing import ivr, outbound
from pbx.routing.decision import FAILURE, UNKNOWN, Decision
from pbx.routing.inbound import route_inbound
from pbx.routing.internal import route_internal
from pbx.routing.snapshot import PublicNumber, Snapshot, TenantRouting
from pbx.routing.to_destination import from_extension, route_destination
from pbx.security.fraud import capped

SUSPENDED_SOUND = "/srv/pbx/sounds/service-suspended"  # pbx/asterisk/sounds/service-suspended.wav
_SIP_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_KEY = re.compile(r"^[0-9*#]?$")


def from_extension_call(snap: Snapshot, caller_id: str, dialled: str, now: datetime) -> Decision:
    """An extension dials: another extension, its tenant's own public number, or out. A
    connecting decision carries the tenant's concurrent-call cap."""
    caller = snap.endpoints.get(caller_id) if _SIP_ID.match(caller_id) else None
    tenant = snap.tenants.get(caller.tenant_id) if caller else None
    if caller is None or tenant is None or not DIALLED.match(dialled):
        return route_internal(caller if tenant else None, None)
    if tenant.suspended and dialled not in outbound.EMERGENCY:  # emergency numbers always go out
        return suspended(tenant.tenant_id)
    return _capped(_extension_call(snap, tenant, caller, dialled, now), tenant)


def suspended(tenant_id: int) -> Decision:
    """The caller is answered, hears why, and the call ends; nothing of the tenant is touched."""
    return Decision("suspended", tenant_id=tenant_id, notice=SUSPENDED_SOUND)


def _capped(decision: Decision, tenant: TenantRouting) -> Decision:
    return capped(decision, tenant.limits) if tenant.limits is not None else decision


def _extension_call(snap: Snapshot, tenant: TenantRouting, caller, dialled: str, now: datetime) -> Decision:
    callee = tenant.extensions.get(dialled)
    if callee is None and (number := _own_number(snap, caller.tenant_id, dialled)):
        return from_extension(number.destination, tenant.at(now), caller)
    if callee is None and outbound.is_outbound(dialled):
        who = outbound.Caller(tenant.tenant_id, tenant.international_calls, tenant.caller_id, tenant.plan,
                              caller.record)
        return outbound.route_outbound(dialled, who, snap.default_trunk)
    return route_internal(caller, callee, tenant.plan)


def _own_number(snap: Snapshot, tenant_id: int, dialled: str) -> PublicNumber | None:
    try:
        number = snap.numbers.get(to_e164(dialled))
    except Invalid:
        return None
    return number if number is not None and number.tenant_id == tenant_id else None


def from_trunk(snap: Snapshot, trunk_id: str, dialled: str, now: datetime) -> Decision:
    """A carrier calls a public number: whichever tenant holds it decides. What cannot
    be a number (too long, not digits) is an unknown number, as in the dialplan's own
    guard: a carrier gets 404, not an answered apology."""
    if not _SIP_ID.match(trunk_id):
        return FAILURE
    if not DIALLED.match(dialled):
        return UNKNOWN
    try:
        e164 = to_e164(dialled)
    except Invalid:
        return UNKNOWN
    if trunk_id not in snap.trunks:
        return FAILURE
    number = snap.numbers.get(e164)
    tenant = snap.tenants.get(number.tenant_id) if number else None
    if tenant is None:
        return UNKNOWN
    if tenant.suspended:
        return suspended(tenant.tenant_id)
    return _capped(route_inbound(number.destination, tenant.at(now), tenant.tenant_id, tenant.recording_notice),
                   tenant)


def after_unanswered(snap: Snapshot, tenant_id: str, after: str, now: datetime) -> Decision:
    """"rg:<id>": the ring group's next destination; "vm:<extension id>": its voicemail."""
    kind, _, ident = after.partition(":")
    if not (tenant_id.isdigit() and ident.isdigit()):
        return FAILURE
    tenant = snap.tenants.get(int(tenant_id))
    if kind == "vm" and tenant is not None and int(ident) in tenant.resolved.voicemail.values():
        return Decision("voicemail", tenant_id=tenant.tenant_id, voicemail_ext=int(ident))
    dest = tenant.group_next.get(int(ident)) if tenant is not None and kind == "rg" else None
    if dest is None:
        return Decision("hangup", tenant_id=int(tenant_id))
    return route_destination(dest, tenant.at(now), tenant.tenant_id)


def menu_key(snap: Snapshot, tenant_id: str, ivr_id: str, attempt: str, key: str, now: datetime) -> Decision:
    """A key pressed (or none) in a menu."""
    if not (tenant_id.isdigit() and ivr_id.isdigit() and attempt.isdigit()) or not _KEY.match(key):
        return FAILURE
    tenant = snap.tenants.get(int(tenant_id))
    menu = tenant.resolved.menus.get(int(ivr_id)) if tenant is not None else None
    if menu is None:
        return FAILURE
    choice = ivr.choose(menu, key, int(attempt))
    if isinstance(choice, Decision):
        return choice
    return route_destination(choice, tenant.at(now), tenant.tenant_id)
