"""People who sign in to the panel, and their server-side sessions (pbx/users/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}  # as pbx/db/models.py: a session never names a deleted user


class User(Base):
    """role: operator (tenant_id NULL), tenant_admin or agent (tied to extension_id of its
    tenant; NULL once that extension is deleted, and then it sees nothing). Only the
    argon2id hash of the password is kept."""

    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased ASCII letters: one account per address
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id", ondelete="SET NULL"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A signed-in browser. The cookie's token is kept only as its SHA-256 digest; the row
    going (sign-out, password reset, the user's deletion) ends the session at once."""

    __tablename__ = "web_sessions"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # absolute end
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # idle end: to the minute
