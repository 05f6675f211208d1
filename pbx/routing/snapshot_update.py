"""The next routing snapshot from the rows written since the last one. Pure.

A write to one extension of a 10,000-extension tenant changes that extension's entries
(and the tenant's ring groups, which name extensions), not the other 9,999: the cost of
a step follows what was written, not the size of the tenant. The result equals
build() of the same rows (tests/unit/test_routing_snapshot_update.py checks it).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from pbx.domain.plans import PLANS
from pbx.routing.internal import Party
from pbx.routing.snapshot import (
    PER_TENANT,
    ExtensionMaps,
    Snapshot,
    Source,
    TenantRouting,
    group_by_tenant,
    party,
    tenant_routing,
    trunk_fields,
)


@dataclass
class Changes:
    """What the database holds now for what was written since a snapshot was made."""

    tenants: dict[int, tuple | None] = field(default_factory=dict)  # tenant id -> its row now; None: gone
    # per-tenant table -> {row id: (tenant id, the row now, or None: deleted)}
    rows: dict[str, dict[int, tuple[int, tuple | None]]] = field(default_factory=dict)
    whole: dict[str, list] = field(default_factory=dict)  # table -> every row it has now (rows not known)


@dataclass
class _Edit:
    source: Source | None  # None: the tenant is gone
    changed: set[str]  # its tables that changed
    extension_ids: set[int] | None  # extension rows written; None: any of them


def update(previous: Snapshot, changes: Changes) -> Snapshot:
    edits = _edits(previous, changes)
    tenants, sources = dict(previous.tenants), dict(previous.sources)
    endpoints, numbers = dict(previous.endpoints), dict(previous.numbers)
    moves = []
    for tenant_id, edit in edits.items():
        old_source, old = previous.sources.get(tenant_id), previous.tenants.get(tenant_id)
        new = _tenant(edit, old_source, old)
        _replace(tenants, tenant_id, new)
        _replace(sources, tenant_id, edit.source)
        whole = old is None or new is None or edit.extension_ids is None
        touched = None if whole else _numbers_of(edit.extension_ids, old_source, edit.source)
        moves.append(_Move(endpoints, old and old.extensions, new and new.extensions, touched, _sip_id))
        if whole or "numbers" in edit.changed:
            moves.append(_Move(numbers, old and old.numbers, new and new.numbers, None, None))
    # Every tenant's old entries leave before any tenant's new ones arrive: a public number that
    # moved from one tenant to another within this step stays with its new owner, whichever of
    # the two tenants comes first (it was routed as unknown when the old owner came second).
    for move in moves:
        move.leave()
    for move in moves:
        move.arrive()
    trunks, default = ((previous.trunks, previous.default_trunk) if "trunks" not in changes.whole
                       else trunk_fields(changes.whole["trunks"]))
    return Snapshot(tenants, endpoints, numbers, trunks, default, sources)


def _tenant(edit: _Edit, old_source: Source | None, old: TenantRouting | None) -> TenantRouting | None:
    if edit.source is None or edit.source.tenant[1] not in PLANS:
        return None
    if old is None or edit.extension_ids is None:
        return tenant_routing(edit.source)
    if not edit.extension_ids:
        parties, maps = old.extensions, _maps_of(old)
    else:
        parties, maps = _patched(old, old_source.tables["extensions"], edit.source.tables["extensions"],
                                 edit.extension_ids)
    return tenant_routing(edit.source, parties, maps)


def _edits(previous: Snapshot, changes: Changes) -> dict[int, _Edit]:
    tenant_rows = _tenant_rows(previous, changes)
    patches: dict[int, dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
    for table, rows in changes.rows.items():
        for row_id, (tenant_id, row) in rows.items():
            patches[row[1] if row else tenant_id][table][row_id] = row
    for table, rows in changes.whole.items():
        if table in PER_TENANT:
            grouped = group_by_tenant(rows)
            for tenant_id in previous.sources.keys() | grouped.keys():
                old = previous.sources.get(tenant_id)
                now = grouped.get(tenant_id, {})
                if old is None or old.tables[table] != now:
                    patches[tenant_id][table] = _Whole(now)
    edits = {}
    for tenant_id in tenant_rows.keys() | patches.keys():
        old = previous.sources.get(tenant_id)
        row = tenant_rows[tenant_id] if tenant_id in tenant_rows else old and old.tenant
        edits[tenant_id] = _edit(old, row, patches.get(tenant_id, {}))
    return edits


class _Whole(dict):
    """A table's rows for one tenant, read whole: they replace the old ones."""


def _edit(old: Source | None, row: tuple | None, patches: dict[str, dict]) -> _Edit:
    if row is None:  # gone (or rows of a tenant this snapshot never saw: its row comes with them)
        return _Edit(None, set(PER_TENANT), None)
    tables = dict(old.tables) if old else {name: {} for name in PER_TENANT}
    extension_ids: set[int] | None = set() if old else None
    for table, patch in patches.items():
        if isinstance(patch, _Whole):
            tables[table] = dict(patch)
            extension_ids = None if table == "extensions" else extension_ids
            continue
        rows = dict(tables[table])
        for row_id, now in patch.items():
            if now is None:
                rows.pop(row_id, None)
            else:
                rows[row_id] = now
        tables[table] = rows
        if table == "extensions" and extension_ids is not None:
            extension_ids |= patch.keys()
    return _Edit(Source(row, tables), set(patches), extension_ids)


def _tenant_rows(previous: Snapshot, changes: Changes) -> dict[int, tuple | None]:
    rows: dict[int, tuple | None] = {}
    if "tenants" in changes.whole:
        now = {row[0]: row for row in changes.whole["tenants"]}
        for tenant_id in previous.sources.keys() | now.keys():
            old = previous.sources.get(tenant_id)
            if (old and old.tenant) != now.get(tenant_id):
                rows[tenant_id] = now.get(tenant_id)
    rows.update(changes.tenants)
    return rows


def _maps_of(tenant: TenantRouting) -> ExtensionMaps:
    r = tenant.resolved
    return ExtensionMaps(r.extensions, r.voicemail, r.recorded)


def _patched(old: TenantRouting, old_rows: dict, new_rows: dict, ids: set[int]) -> tuple[dict, ExtensionMaps]:
    """The tenant's extensions with the rows `ids` taken out as they were and put back as they are."""
    parties, maps = dict(old.extensions), _maps_of(old)
    sip_ids, voicemail, recorded = dict(maps.extensions), dict(maps.voicemail), set(maps.recorded)

    def drop(number: str) -> None:
        parties.pop(number, None), sip_ids.pop(number, None), voicemail.pop(number, None)
        recorded.discard(number)

    for row_id in ids:
        row = old_rows.get(row_id)
        if row and (held := parties.get(row[2])) is not None and held.extension_id == row_id:
            drop(row[2])
    for row_id in ids:
        if row := new_rows.get(row_id):
            p: Party = party(row)
            drop(p.number)
            parties[p.number], sip_ids[p.number] = p, p.sip_id
            if p.voicemail:
                voicemail[p.number] = p.extension_id
            if p.record:
                recorded.add(p.number)
    return parties, ExtensionMaps(sip_ids, voicemail, frozenset(recorded))


def _numbers_of(ids: set[int], old: Source, new: Source) -> set[str]:
    """The extension numbers the rows `ids` had or have."""
    found = set()
    for rows in (old.tables["extensions"], new.tables["extensions"]):
        found.update(rows[i][2] for i in ids if i in rows)
    return found


def _sip_id(party) -> str:
    return party.sip_id


@dataclass(frozen=True)
class _Move:
    """The entries `keys` (None: all) of one tenant's map, moving from `old` to `new` in a global index."""
    index: dict
    old: dict | None
    new: dict | None
    keys: set | None
    key_of: Callable | None

    def _keys(self):
        old, new = self.old or {}, self.new or {}
        return old.keys() | new.keys() if self.keys is None else self.keys

    def leave(self) -> None:
        old = self.old or {}
        for key in self._keys():
            if key in old:
                self.index.pop(self.key_of(old[key]) if self.key_of else key, None)

    def arrive(self) -> None:
        new = self.new or {}
        for key in self._keys():
            if key in new:
                self.index[self.key_of(new[key]) if self.key_of else key] = new[key]


def _replace(mapping: dict, key, value) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
