"""A tenant's CRM connection and the call activities owed to it (pbx/crm/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow


class CrmConnection(Base):
    """One per tenant. The credentials are only stored sealed (pbx/jobs/sealing.py, bound to
    the tenant), so the database alone gives no one the tenant's CRM."""

    __tablename__ = "crm_connections"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(2000))
    credentials: Mapped[str] = mapped_column(Text)  # sealed JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


class CrmCallLog(Base):
    """A finished call owed to the tenant's CRM as a call activity: written in the call
    record's own transaction, so a restart loses none; pending until logged, or failed
    after the retries (or when the CRM was disconnected meanwhile)."""

    __tablename__ = "crm_call_logs"
    __table_args__ = (UniqueConstraint("tenant_id", "call_id"),
                      Index("ix_crm_call_logs_due", "status", "next_attempt_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(32))  # Asterisk's linkedid, as in the events
    call: Mapped[dict] = mapped_column(JSON)  # the CallLog's fields
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | logged | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
