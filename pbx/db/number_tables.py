"""The operator's pool of free public numbers, and number porting requests (pbx/numbers/)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class PoolNumber(Base):
    """A number the operator holds for tenants to pick; free while no allocation names it."""

    __tablename__ = "number_pool"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    area: Mapped[str] = mapped_column(String(4), index=True)  # "0850", "0212", ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortingRequest(Base):
    __tablename__ = "porting_requests"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16))  # E.164
    current_operator: Mapped[str] = mapped_column(String(100))
    destination: Mapped[dict] = mapped_column(JSON)  # where the number routes once ported
    status: Mapped[str] = mapped_column(String(10))  # submitted approved scheduled completed rejected
    expected_date: Mapped[date] = mapped_column(Date)
    document_name: Mapped[str | None] = mapped_column(String(100))
    document_type: Mapped[str | None] = mapped_column(String(40))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_size: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
