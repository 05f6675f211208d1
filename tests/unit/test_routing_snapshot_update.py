"""The incremental routing snapshot (pure): after any sequence of writes, stepping the
snapshot by what was written gives the same snapshot as building it from every row."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from datetime import datetime, timezone

from pbx.routing import fallback
from pbx.routing.snapshot import PER_TENANT, Rows, build
from pbx.routing.snapshot_update import Changes, update
from tests.unit.routing_rows import rows

NUMBERS = [f"10{i}" for i in range(1, 8)]


class Database:
    """Rows as tables {id: row}; a transaction notes what it wrote (as the unit of work does),
    and read_back() gives what a step then reads (as RoutingSnapshots' refresh does)."""

    def __init__(self):
        start = rows()
        self.tables = {name: {r[0]: r for r in getattr(start, name)} for name in ("tenants", *PER_TENANT)}
        self.trunks = list(start.trunks)
        self.next_id = 1000

    def rows(self) -> Rows:
        return Rows(trunks=list(self.trunks),
                    **{name: sorted(table.values()) for name, table in self.tables.items()})

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def put(self, written: dict, table: str, row: tuple) -> None:
        self.tables[table][row[0]] = row
        written.setdefault(table, {})[row[0]] = row[0] if table == "tenants" else row[1]

    def remove(self, written: dict, table: str, row_id: int) -> None:
        row = self.tables[table].pop(row_id)
        written.setdefault(table, {})[row_id] = row_id if table == "tenants" else row[1]

    def drop_tenant(self, written: dict, tenant_id: int) -> None:
        """ON DELETE CASCADE: the database removes its rows; only the tenant's row was written."""
        self.remove(written, "tenants", tenant_id)
        for name in PER_TENANT:
            self.tables[name] = {k: r for k, r in self.tables[name].items() if r[1] != tenant_id}

    def read_back(self, written: dict, whole: set) -> Changes:
        changes = Changes()
        for table in whole:
            changes.whole[table] = list(self.trunks) if table == "trunks" else sorted(self.tables[table].values())
        for table, keys in written.items():
            if table in whole:
                continue
            if table == "tenants":
                changes.tenants = {key: self.tables[table].get(key) for key in keys}
            else:
                changes.rows[table] = {key: (tid, self.tables[table].get(key)) for key, tid in keys.items()}
        return changes


def write(db: Database, data) -> Changes:
    """One random transaction (one to three writes) on `db`; returns what a step reads back."""
    changes, whole = {}, set()
    for _ in range(data.draw(st.integers(1, 3))):
        tenants = sorted(db.tables["tenants"])
        if not tenants:
            break
        tenant_id = data.draw(st.sampled_from(tenants))
        own = {r[2]: r for r in db.tables["extensions"].values() if r[1] == tenant_id}
        action = data.draw(st.sampled_from(["add_ext", "change_ext", "delete_ext", "add_number", "delete_number",
                                            "plan", "group", "drop_tenant", "new_tenant", "whole", "trunk",
                                            "move_number"]))
        number = data.draw(st.sampled_from(NUMBERS))
        flags = data.draw(st.tuples(st.booleans(), st.booleans()))
        if action == "add_ext" and number not in own:
            row_id = db.new_id()
            db.put(changes, "extensions", (row_id, tenant_id, number, f"{number}-{row_id}", *flags))
        elif action == "change_ext" and own:
            old = own[data.draw(st.sampled_from(sorted(own)))]
            renumbered = number if number not in own else old[2]
            db.put(changes, "extensions", (old[0], tenant_id, renumbered, old[3], *flags))
        elif action == "delete_ext" and own:
            db.remove(changes, "extensions", own[data.draw(st.sampled_from(sorted(own)))][0])
        elif action == "add_number":
            row_id = db.new_id()
            dest = {"type": "extension", "extension": number}
            db.put(changes, "numbers", (row_id, tenant_id, f"+90850{row_id:07d}", json.dumps(dest)))
        elif action == "delete_number":
            mine = sorted(k for k, r in db.tables["numbers"].items() if r[1] == tenant_id)
            if mine:
                db.remove(changes, "numbers", data.draw(st.sampled_from(mine)))
        elif action == "move_number":  # a public number given up by one tenant, taken by another
            others = sorted(k for k, r in db.tables["numbers"].items() if r[1] != tenant_id)
            if others:
                row = db.tables["numbers"][data.draw(st.sampled_from(others))]
                db.remove(changes, "numbers", row[0])
                db.put(changes, "numbers", (db.new_id(), tenant_id, row[2], row[3]))
        elif action == "plan":
            row = db.tables["tenants"][tenant_id]
            db.put(changes, "tenants", (tenant_id, data.draw(st.sampled_from(["kobi", "enterprise", "retired"])),
                                        *flags))
        elif action == "group":
            members = data.draw(st.lists(st.sampled_from(NUMBERS), max_size=3))
            db.put(changes, "ring_groups", (data.draw(st.sampled_from([5, 6, 7])) if tenant_id == 1 else db.new_id(),
                                            tenant_id, json.dumps(members), "all", 20, None))
        elif action == "drop_tenant":
            db.drop_tenant(changes, tenant_id)
        elif action == "new_tenant":
            db.put(changes, "tenants", (db.new_id(), "kobi", *flags))
        elif action == "whole":  # a statement wrote the table: the step reads all of it
            table = data.draw(st.sampled_from(["tenants", "extensions"]))
            for row_id, row in list(db.tables[table].items()):
                if table == "extensions" and row[1] == tenant_id:
                    db.tables[table][row_id] = (*row[:4], *flags)
            whole.add(table)
        elif action == "trunk":
            db.trunks = [(sip_id, sip_id == data.draw(st.sampled_from(["trunk-a", "trunk-b"])))
                         for sip_id, _ in db.trunks]
            whole.add("trunks")
    return db.read_back(changes, whole)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_stepping_by_what_was_written_equals_a_full_build(data):
    db = Database()
    snap = build(db.rows())
    now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    for _ in range(data.draw(st.integers(1, 12))):
        before = snap
        snap = update(snap, write(db, data))
        assert snap == build(db.rows())
        # and the fallback's extension entries follow by the difference alone (numbers are few:
        # the publisher works them out whole)
        put, gone = fallback.extension_delta(before, snap)
        kept = {k: v for k, v in fallback.entries(before, now).items() if k not in gone and not k.startswith("did/")}
        assert kept | put | fallback.number_entries(snap, now) == fallback.entries(snap, now)


def test_a_step_that_changes_one_extension_keeps_the_rest_as_they_were():
    db = Database()
    snap = build(db.rows())
    written = {}
    db.put(written, "extensions", (1, 1, "101", "101-t1", True, True))
    after = update(snap, db.read_back(written, set()))
    assert after.tenants[2] is snap.tenants[2]  # another tenant: untouched
    tenant, before = after.tenants[1], snap.tenants[1]
    assert tenant.extensions["102"] is before.extensions["102"]  # the same objects, not rebuilt
    assert tenant.numbers is not before.numbers and tenant.numbers == before.numbers
    assert after.endpoints["101-t1"].record and after.tenants[1].resolved.recorded >= {"101"}
    assert after == build(db.rows())


def test_a_deleted_extension_leaves_every_index():
    db = Database()
    snap = build(db.rows())
    written = {}
    db.remove(written, "extensions", 3)
    after = update(snap, db.read_back(written, set()))
    assert "103-t1" not in after.endpoints and "103" not in after.tenants[1].extensions
    assert after.tenants[1].resolved.groups[5].members == ("102-t1",)  # the ring group follows
    assert after == build(db.rows())


def test_a_gone_tenant_takes_its_extensions_and_numbers_with_it():
    db = Database()
    snap = build(db.rows())
    written = {}
    db.drop_tenant(written, 2)
    after = update(snap, db.read_back(written, set()))
    assert 2 not in after.tenants and "101-t2" not in after.endpoints and "+908505550200" not in after.numbers
    assert after == build(db.rows())


def test_a_number_that_moves_to_another_tenant_in_one_step_routes_to_its_new_owner():
    """The old owner goes and a new tenant takes its number within one step (as the trunk tests
    do: delete the tenant, make another, allocate the number again): whichever tenant the step
    handles first, the number ends with the new one."""
    for first, second in ((1, 2), (2, 1)):
        db = Database()
        snap = build(db.rows())
        moved = next(r for r in db.tables["numbers"].values() if r[1] == first)
        written = {}
        db.drop_tenant(written, first)
        db.put(written, "numbers", (db.new_id(), second, moved[2], moved[3]))
        after = update(snap, db.read_back(written, set()))
        assert after.numbers[moved[2]] is after.tenants[second].numbers[moved[2]]
        assert after == build(db.rows())
