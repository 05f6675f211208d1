"""Service operations (pbx/ops/): trunk reachability, faults, outage notices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}
OPEN_SYSTEM = "status = 'open' AND source = 'system'"


class TrunkStatus(Base):
    """What Asterisk's last OPTIONS qualify of the trunk said (AMI ContactStatus)."""

    __tablename__ = "trunk_status"

    trunk_id: Mapped[int] = mapped_column(ForeignKey("trunks.id", ondelete="CASCADE"), primary_key=True)
    reachable: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    rtt_ms: Mapped[float | None] = mapped_column(Float)


class CallTrunk(Base):
    """Which trunk a call went out through or came in from (AMI DialEnd), and how the dial
    ended there: joined to the call records (by linkedid) for per-trunk figures."""

    __tablename__ = "call_trunks"
    __table_args__ = (UniqueConstraint("linkedid", "trunk_id", name="uq_call_trunks_linkedid_trunk"),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(32))
    trunk_id: Mapped[int] = mapped_column(ForeignKey("trunks.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # out | in
    dial_status: Mapped[str] = mapped_column(String(16))  # Asterisk's DIALSTATUS
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Fault(Base):
    """A fault record: opened by the system (a trunk unreachable), an operator or a tenant."""

    __tablename__ = "faults"
    __table_args__ = (  # one open system fault per trunk and kind (reason), even between two nodes
        Index("uq_faults_open_system", "trunk_id", "reason", unique=True,
              sqlite_where=text(OPEN_SYSTEM), postgresql_where=text(OPEN_SYSTEM)),
        NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="open")
    source: Mapped[str] = mapped_column(String(10))  # system | operator | complaint
    reason: Mapped[str | None] = mapped_column(String(40))  # trunk_unreachable, or a complaint's own
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    trunk_id: Mapped[int | None] = mapped_column(ForeignKey("trunks.id", ondelete="SET NULL"), index=True)
    number: Mapped[str | None] = mapped_column(String(32))
    period_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)
    resolve_by: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cause: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    prevention: Mapped[str | None] = mapped_column(Text)
    rfo_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rfo_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breaches: Mapped[list] = mapped_column(JSON, default=list)  # "response" / "resolution" / "rfo"


class FaultTenant(Base):
    """A tenant the fault affects (its trunk, its numbers) or that raised it: who sees it, who is told."""

    __tablename__ = "fault_tenants"

    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class FaultHistory(Base):
    __tablename__ = "fault_history"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10))
    by: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(200))


class FaultCall(Base):
    """A complaint's matching calls (from, to, number), with their quality as recorded."""

    __tablename__ = "fault_calls"

    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)


class NoticeContact(Base):
    __tablename__ = "notice_contacts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    channels: Mapped[list] = mapped_column(JSON)


class Notice(Base):
    """One message to one contact by one channel about one fault event (opened/resolved):
    unique, so nobody is told twice; retried until sent or out of attempts."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("fault_id", "event", "contact_id", "channel", name="uq_notices_once"),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(10))  # opened | resolved
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("notice_contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(5))
    address: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeAttempt(Base):
    """Every try of a notice and what came of it."""

    __tablename__ = "notice_attempts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(300))
