"""Everything routing needs, as plain data built in one pass from the database's rows. Pure.

A Snapshot is never changed after build(): a newer one replaces it whole, so a call
sees one consistent state from start to end. Tenants are built one by one; a
tenant whose rows did not change since the previous snapshot is reused as it is.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from pbx.domain import destinations, schedules
from pbx.domain.plans import PLANS, Plan
from pbx.routing import ivr
from pbx.routing.internal import Party
from pbx.routing.to_destination import Group, Resolved
from pbx.security.fraud import FraudLimits, limits_for


@dataclass(frozen=True)
class PublicNumber:
    tenant_id: int
    destination: object | None  # parsed; None when the stored one no longer parses


@dataclass(frozen=True)
class TenantRouting:
    tenant_id: int
    plan: Plan
    international_calls: bool
    caller_id: str | None  # the tenant's first public number: what outbound calls show
    recording_notice: bool  # inbound callers hear that calls may be recorded
    extensions: dict[str, Party]  # extension number -> extension
    numbers: dict[str, PublicNumber]  # E.164 -> the tenant's public number
    resolved: Resolved  # every destination target of the tenant; `now` is set per call
    group_next: dict[int, object | None]  # ring group id -> parsed next destination
    limits: FraudLimits | None = None  # toll-fraud caps (pbx/security/fraud.py); None: the plan's

    def at(self, now: datetime) -> Resolved:
        return replace(self.resolved, now=now)


@dataclass(frozen=True)
class Snapshot:
    tenants: dict[int, TenantRouting] = field(default_factory=dict)
    endpoints: dict[str, Party] = field(default_factory=dict)  # SIP id -> extension
    numbers: dict[str, PublicNumber] = field(default_factory=dict)  # E.164 -> number
    trunks: frozenset[str] = frozenset()  # SIP ids
    default_trunk: str | None = None
    sources: dict[int, tuple] = field(default_factory=dict, repr=False)  # tenant id -> the rows it was built from


@dataclass
class Rows:
    """What build() reads: tuples, in id order, JSON columns as their stored text."""

    tenants: list = field(default_factory=list)  # id, plan, international_calls, recording_notice,
    # then optionally the operator's fraud limits: max_concurrent_calls, max_international_minutes,
    # max_call_attempts_per_minute
    extensions: list = field(default_factory=list)  # id, tenant_id, number, sip_username, voicemail, record_calls
    numbers: list = field(default_factory=list)  # tenant_id, number, destination
    trunks: list = field(default_factory=list)  # sip_id, default_outbound
    prompts: list = field(default_factory=list)  # id, tenant_id, playback path
    ivrs: list = field(default_factory=list)  # id, tenant_id, greeting_prompt_id, options, timeout_seconds,
    # max_attempts, timeout_destination
    schedules: list = field(default_factory=list)  # id, tenant_id, timezone, weekly, holidays
    ring_groups: list = field(default_factory=list)  # id, tenant_id, extensions, strategy, ring_seconds,
    # next_destination


_PER_TENANT = ("extensions", "numbers", "prompts", "ivrs", "schedules", "ring_groups")


def parse_or_none(text: str | None) -> object | None:
    """A stored destination (JSON text) that no longer parses routes to the failure path, alone."""
    try:
        return _destination(json.loads(text)) if text is not None else None
    except ValueError:  # not JSON
        return None


def _destination(data) -> object | None:
    """The same for one already decoded from JSON (a menu's options)."""
    try:
        return destinations.parse(data) if data is not None else None
    except ValueError:
        return None


def build(rows: Rows, previous: Snapshot | None = None) -> Snapshot:
    """Tenants whose rows are the same as in `previous` are taken over as they are: a
    rebuild costs reading the rows plus building only what changed."""
    grouped = {name: _group_by_tenant(getattr(rows, name), 0 if name == "numbers" else 1) for name in _PER_TENANT}
    old = previous.sources if previous else {}
    tenants, sources = {}, {}
    for row in rows.tenants:
        source = (row,) + tuple(tuple(grouped[name].get(row[0], ())) for name in _PER_TENANT)
        if row[1] not in PLANS:
            continue
        sources[row[0]] = source
        same = old.get(row[0]) == source
        tenants[row[0]] = previous.tenants[row[0]] if same else _tenant(*source)
    endpoints = {p.sip_id: p for t in tenants.values() for p in t.extensions.values()}
    numbers = {e164: n for t in tenants.values() for e164, n in t.numbers.items()}
    default = next((sip_id for sip_id, default_outbound in rows.trunks if default_outbound), None)
    return Snapshot(tenants, endpoints, numbers, frozenset(t[0] for t in rows.trunks), default, sources)


def _group_by_tenant(rows: list, at: int) -> dict[int, list]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row[at]].append(row)
    return grouped


def _tenant(row, extensions, numbers, prompts, ivrs, hours, groups) -> TenantRouting:
    tenant_id, plan = row[0], PLANS[row[1]]
    parties = {e[2]: Party(tenant_id, e[2], e[3], e[0], bool(e[4]), bool(e[5])) for e in extensions}
    paths = {p[0]: p[2] for p in prompts}
    group_next = {g[0]: parse_or_none(g[5]) for g in groups}
    resolved = Resolved(
        extensions={n: p.sip_id for n, p in parties.items()},
        prompts=paths,
        menus={m[0]: _menu(m, paths) for m in ivrs},
        schedules={s[0]: schedules.from_stored(s[2], json.loads(s[3]), json.loads(s[4])) for s in hours},
        groups={g[0]: _group(g, parties, group_next[g[0]] is not None) for g in groups},
        voicemail={n: p.extension_id for n, p in parties.items() if p.voicemail},
        plan=plan,
        recorded=frozenset(n for n, p in parties.items() if p.record),
    )
    public = {n[1]: PublicNumber(tenant_id, parse_or_none(n[2])) for n in numbers}
    return TenantRouting(tenant_id, plan, bool(row[2]), numbers[0][1] if numbers else None, bool(row[3]), parties,
                         public, resolved, group_next, limits_for(row[1], *row[4:7]))


def _menu(row, paths: dict[int, str]) -> ivr.Menu:
    menu_id, tenant_id, greeting, options, timeout_seconds, max_attempts, timeout_destination = row
    return ivr.Menu(
        ivr_id=menu_id, tenant_id=tenant_id, greeting=paths.get(greeting, ""), timeout_seconds=timeout_seconds,
        max_attempts=max_attempts,
        options={key: _destination(dest) for key, dest in (json.loads(options) or {}).items()},
        timeout_destination=parse_or_none(timeout_destination),
    )


def _group(row, parties: dict[str, Party], has_next: bool) -> Group:
    members = [parties[n] for n in json.loads(row[2]) if n in parties]
    return Group(row[0], tuple(m.sip_id for m in members), row[3] == "sequential", row[4], has_next,
                 tuple(m.record for m in members))
