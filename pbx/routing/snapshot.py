"""Everything routing needs, as plain data built from the database's rows. Pure.

A Snapshot is never changed after it is made: a newer one replaces it whole, so a call
sees one consistent state from start to end. build() makes one from every row (at
start-up); update() (pbx/routing/snapshot_update.py) makes the next one from the rows
that were written since, touching only what they change.
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

# Rows are tuples whose first field is the row id and, for a tenant's own tables, whose
# second is the tenant id.
PER_TENANT = ("extensions", "numbers", "prompts", "ivrs", "schedules", "ring_groups")


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
    suspended: bool = False  # an unconverted trial: every call refused with the suspension message

    def at(self, now: datetime) -> Resolved:
        return replace(self.resolved, now=now)


@dataclass(frozen=True)
class Source:
    """The rows one tenant was built from: its own row, and per table {row id: row}."""

    tenant: tuple  # id, plan, international_calls, recording_notice
    tables: dict[str, dict[int, tuple]]


@dataclass(frozen=True)
class Snapshot:
    tenants: dict[int, TenantRouting] = field(default_factory=dict)
    endpoints: dict[str, Party] = field(default_factory=dict)  # SIP id -> extension
    numbers: dict[str, PublicNumber] = field(default_factory=dict)  # E.164 -> number
    trunks: frozenset[str] = frozenset()  # SIP ids
    default_trunk: str | None = None
    sources: dict[int, Source] = field(default_factory=dict, repr=False)  # every tenant, known plan or not


@dataclass
class Rows:
    """What build() reads: tuples, JSON columns as their stored text."""

    tenants: list = field(default_factory=list)  # id, plan, international_calls, recording_notice,
    # then optionally the operator's fraud limits: max_concurrent_calls, max_international_minutes,
    # max_call_attempts_per_minute, then suspended
    extensions: list = field(default_factory=list)  # id, tenant_id, number, sip_username, voicemail, record_calls
    numbers: list = field(default_factory=list)  # id, tenant_id, number, destination
    trunks: list = field(default_factory=list)  # sip_id, default_outbound
    prompts: list = field(default_factory=list)  # id, tenant_id, playback path
    ivrs: list = field(default_factory=list)  # id, tenant_id, greeting_prompt_id, options, timeout_seconds,
    # max_attempts, timeout_destination
    schedules: list = field(default_factory=list)  # id, tenant_id, timezone, weekly, holidays
    ring_groups: list = field(default_factory=list)  # id, tenant_id, extensions, strategy, ring_seconds,
    # next_destination


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
    """Every tenant from its rows; those whose rows are the same as in `previous` are taken
    over as they are."""
    grouped = {name: group_by_tenant(getattr(rows, name)) for name in PER_TENANT}
    old = previous.sources if previous else {}
    tenants, sources = {}, {}
    for row in rows.tenants:
        source = Source(row, {name: grouped[name].get(row[0], {}) for name in PER_TENANT})
        sources[row[0]] = source
        if row[1] not in PLANS:
            continue
        same = old.get(row[0]) == source and row[0] in previous.tenants
        tenants[row[0]] = previous.tenants[row[0]] if same else tenant_routing(source)
    endpoints = {p.sip_id: p for t in tenants.values() for p in t.extensions.values()}
    numbers = {e164: n for t in tenants.values() for e164, n in t.numbers.items()}
    return Snapshot(tenants, endpoints, numbers, *trunk_fields(rows.trunks), sources)


def trunk_fields(trunks: list) -> tuple[frozenset[str], str | None]:
    default = next((sip_id for sip_id, default_outbound in trunks if default_outbound), None)
    return frozenset(t[0] for t in trunks), default


def group_by_tenant(rows: list) -> dict[int, dict[int, tuple]]:
    grouped = defaultdict(dict)
    for row in rows:
        grouped[row[1]][row[0]] = row
    return grouped


def party(row: tuple) -> Party:
    ext_id, tenant_id, number, sip_id, voicemail, record = row
    return Party(tenant_id, number, sip_id, ext_id, bool(voicemail), bool(record))


@dataclass(frozen=True)
class ExtensionMaps:
    """What a tenant's Resolved derives from its extensions alone."""

    extensions: dict[str, str]  # number -> SIP id
    voicemail: dict[str, int]  # number -> extension id, where voicemail is on
    recorded: frozenset[str]

    @classmethod
    def of(cls, parties: dict[str, Party]) -> ExtensionMaps:
        return cls({n: p.sip_id for n, p in parties.items()},
                   {n: p.extension_id for n, p in parties.items() if p.voicemail},
                   frozenset(n for n, p in parties.items() if p.record))


def tenant_routing(source: Source, parties: dict[str, Party] | None = None,
                   maps: ExtensionMaps | None = None) -> TenantRouting:
    """One tenant from its rows; `parties` and `maps`, where given, are its extensions
    already made (so a change elsewhere in a large tenant does not walk them all)."""
    row, t = source.tenant, source.tables
    tenant_id, plan = row[0], PLANS[row[1]]
    if parties is None:
        parties = {e[2]: party(e) for e in t["extensions"].values()}
    maps = maps or ExtensionMaps.of(parties)
    paths = {p[0]: p[2] for p in t["prompts"].values()}
    group_next = {g[0]: parse_or_none(g[5]) for g in t["ring_groups"].values()}
    resolved = Resolved(
        extensions=maps.extensions,
        prompts=paths,
        menus={m[0]: _menu(m, paths) for m in t["ivrs"].values()},
        schedules={s[0]: schedules.from_stored(s[2], json.loads(s[3]), json.loads(s[4]))
                   for s in t["schedules"].values()},
        groups={g[0]: _group(g, parties, group_next[g[0]] is not None) for g in t["ring_groups"].values()},
        voicemail=maps.voicemail,
        plan=plan,
        recorded=maps.recorded,
    )
    numbers = t["numbers"]
    public = {n[2]: PublicNumber(tenant_id, parse_or_none(n[3])) for n in numbers.values()}
    caller_id = numbers[min(numbers)][2] if numbers else None  # the first one (lowest id)
    return TenantRouting(tenant_id, plan, bool(row[2]), caller_id, bool(row[3]), parties, public, resolved,
                         group_next, limits_for(row[1], *row[4:7]), bool(row[7]) if len(row) > 7 else False)


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
