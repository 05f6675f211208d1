"""The control plane's own tables. Asterisk's realtime tables are in realtime.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    extra_extensions: Mapped[int] = mapped_column(Integer, default=0)
    international_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    # What a new extension's record_calls is when the request does not say.
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    # KVKK transparency: inbound callers hear "this call may be recorded" first.
    recording_notice: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """Bearer tokens, kept only as SHA-256 digests. tenant_id NULL = operator."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Extension(Base):
    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    voicemail: Mapped[bool] = mapped_column(Boolean, default=False)
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    # The PJSIP endpoint/auth/aor id: unique across tenants, made by us, never user text.
    sip_username: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prompt(Base):
    """An IVR prompt. Its audio lives in ivr_audio/<tenant_id>/<file_id>.{wav,wav16};
    file_id is random, so no user text ever becomes part of a path."""

    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    file_id: Mapped[str] = mapped_column(String(40), unique=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Number(Base):
    """A public number (DID) held by one tenant, and where its calls go."""

    __tablename__ = "numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    destination: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Trunk(Base):
    """A carrier. Calls from its `match` addresses are inbound calls to the number in
    the request URI; the default_outbound trunk carries outbound calls."""

    __tablename__ = "trunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=5060)
    match: Mapped[list] = mapped_column(JSON)
    default_outbound: Mapped[bool] = mapped_column(Boolean, default=False)
    sip_id: Mapped[str] = mapped_column(String(40), unique=True)  # its PJSIP endpoint/aor/identify id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ivr(Base):
    """An IVR menu: a greeting, DTMF options to destinations, retries, then a fallback."""

    __tablename__ = "ivrs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    greeting_prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    options: Mapped[dict] = mapped_column(JSON)  # DTMF key -> destination
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=5)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    timeout_destination: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Schedule(Base):
    """Business hours (weekly rules in a time zone) and holidays."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[list] = mapped_column(JSON)  # [{"days": [...], "open": "09:00", "close": "18:00"}]
    holidays: Mapped[list] = mapped_column(JSON)  # [{"date": "2026-10-29", "name": ...}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RingGroup(Base):
    """Extensions rung together or one after another; then, unanswered, next_destination."""

    __tablename__ = "ring_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    extensions: Mapped[list] = mapped_column(JSON)  # extension numbers, in ringing order
    strategy: Mapped[str] = mapped_column(String(12))  # "all" | "sequential"
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    next_destination: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoicemailMessage(Base):
    """A message left for an extension. The row is made when the caller is sent to
    record; the audio is Asterisk's recording, in the instance's voicemail spool."""

    __tablename__ = "voicemail_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extensions.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(String(40), unique=True)
    caller: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
