"""The events outbox and webhooks (pbx/eventing/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow


class EventCounter(Base):
    """A tenant's last event seq. Allocating takes this row's write lock (an UPDATE), so
    two transactions never hand out the same seq, on PostgreSQL as on SQLite."""

    __tablename__ = "event_counters"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class EventRow(Base):
    """The durable outbox: every tenant event, written in the transaction it describes.
    dedupe_key: events made from Asterisk's reports (type + linkedid), so a replay is stored once."""

    __tablename__ = "events"
    # Named: the naming convention would give both uq_events_tenant_id.
    __table_args__ = (UniqueConstraint("tenant_id", "seq", name="uq_events_tenant_seq"),
                      UniqueConstraint("tenant_id", "dedupe_key", name="uq_events_tenant_dedupe_key"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))


class Webhook(Base):
    __tablename__ = "webhooks"
    __table_args__ = {"sqlite_autoincrement": True}  # a deleted webhook's id is never handed out again

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first failure of the current run
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event owed to one webhook: pending until a 2xx (delivered), a 410 (gone) or
    the webhook is disabled (failed). The dispatcher works from these rows only, so it
    resumes where it was after a restart."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_webhook", "webhook_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtensionRegistration(Base):
    """An extension the control plane last saw registered (pbx/eventing/registrations.py): written
    in the transaction of the extension.registered that says so, deleted in that of the
    extension.unregistered, so a restart compares Asterisk's contacts with it and raises only what
    changed meanwhile. Goes with its extension."""

    __tablename__ = "extension_registrations"

    extension_id: Mapped[int] = mapped_column(ForeignKey("extensions.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    sip_id: Mapped[str] = mapped_column(String(40), unique=True)
    contact: Mapped[str] = mapped_column(String(512))
    node: Mapped[str] = mapped_column(String(80))  # whose Asterisk holds the contact (a cluster has several)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
