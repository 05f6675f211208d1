"""What one transaction wrote: its tables, and for ORM rows which ones (and their tenant).

Learned from the session itself (after_flush sees every added, changed and deleted
object; do_orm_execute every statement sent through the session), so no writer has to
declare anything. A statement (`update(Trunk).values(...)`, a bulk insert) writes rows
that are not known one by one: its table is then written "whole".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import inspect


@dataclass
class Written:
    rows: dict[str, dict[object, int | None]] = field(default_factory=dict)  # table -> {primary key: tenant id}
    whole: set[str] = field(default_factory=set)  # tables written by statements: rows unknown

    @property
    def tables(self) -> set[str]:
        return set(self.rows) | self.whole

    def add_row(self, table: str, key: object, tenant_id: int | None) -> None:
        self.rows.setdefault(table, {})[key] = tenant_id

    def merge(self, other: Written) -> None:
        for table, rows in other.rows.items():
            self.rows.setdefault(table, {}).update(rows)
        self.whole |= other.whole

    def take(self) -> Written:
        """Everything gathered so far, leaving this one empty."""
        taken = Written(self.rows, self.whole)
        self.rows, self.whole = {}, set()
        return taken

    def __bool__(self) -> bool:
        return bool(self.rows or self.whole)


class WriteTracker:
    """Session event listeners that fill one Written."""

    def __init__(self) -> None:
        self.written = Written()

    def after_flush(self, session, _flush_context) -> None:
        # Still the pre-flush lists here; new objects already have their primary keys.
        for obj in (*session.new, *session.dirty, *session.deleted):
            state = inspect(obj)
            identity = state.mapper.primary_key_from_instance(obj)
            key = identity[0] if len(identity) == 1 else tuple(identity)
            self.written.add_row(state.mapper.local_table.name, key, getattr(obj, "tenant_id", None))

    def on_execute(self, state) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            self.written.whole.add(state.statement.table.name)
