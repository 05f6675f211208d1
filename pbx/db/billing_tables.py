"""Billing's tables: each tenant's commercial terms, the usage a month is billed on,
international rates, resellers and issued invoices (pbx/billing/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class BillingAccount(Base):
    """A tenant's terms. Money is kept as decimal text ("4500.00"): exact on every database."""

    __tablename__ = "billing_accounts"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Istanbul")  # months are the tenant's months
    circuit_pricing: Mapped[bool] = mapped_column(Boolean, default=False)
    enterprise_monthly: Mapped[str | None] = mapped_column(String(20))
    trial_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trial_converted: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_plan: Mapped[str | None] = mapped_column(String(20))  # a downgrade, applied at renewal
    billing_email: Mapped[str | None] = mapped_column(String(254))  # trial and renewal reminders go here
    reminders_sent: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["trial-7", "trial-1", "renewal-2027"]
    term_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id", ondelete="RESTRICT"), index=True)


class MonthlyUsage(Base):
    """What a month is billed on, kept as its running maximum (never lowered)."""

    __tablename__ = "billing_usage"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM in the tenant's zone
    max_circuits: Mapped[int] = mapped_column(Integer, default=0)
    max_extra_extensions: Mapped[int] = mapped_column(Integer, default=0)


class OneOffCharge(Base):
    """A charge outside the monthly items (a pro-rata upgrade), billed in the month it was made."""

    __tablename__ = "billing_charges"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InternationalRate(Base):
    __tablename__ = "international_rates"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(15), unique=True)  # E.164 digits, no "+"
    destination: Mapped[str] = mapped_column(String(100))
    per_minute: Mapped[str] = mapped_column(String(20))


class Reseller(Base):
    """Seed 004's B2B sub-agent: manages its own customers, buys at a discount."""

    __tablename__ = "resellers"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    discount_percent: Mapped[str] = mapped_column(String(10), default="0")  # its wholesale price = list - this
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResellerToken(Base):
    """A reseller's bearer tokens, kept only as SHA-256 digests (as api_tokens are)."""

    __tablename__ = "reseller_tokens"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invoice(Base):
    """An issued invoice or credit note: written once, never changed. tenant_id is not a
    foreign key: financial records outlive the tenant."""

    __tablename__ = "invoices"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(12))  # invoice | credit_note
    # "<tenant>:<month>" for an invoice (one per month), NULL for credit notes
    invoice_key: Mapped[str | None] = mapped_column(String(24), unique=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    reason: Mapped[str | None] = mapped_column(String(500))
    lines: Mapped[list] = mapped_column(JSON)
    subtotal: Mapped[str] = mapped_column(String(20))
    kdv: Mapped[str] = mapped_column(String(20))
    total: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
