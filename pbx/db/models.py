"""The control plane's own tables. Asterisk's realtime tables are in realtime.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,  # call records
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from pbx.db.base import Base, UTCDateTime, utcnow

# AUTOINCREMENT on SQLite (PostgreSQL's sequences never go back): without it SQLite
# hands the highest deleted id to the next row, and a new tenant would inherit what
# outlives the old one (access log, destruction records, spool files named t<id>_).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Tenant(Base):
    __tablename__ = "tenants"
    __table_args__ = NEVER_REUSE_IDS

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
    # Toll-fraud limits set by an operator; NULL = the plan's (pbx/security/fraud.py).
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer)
    max_international_minutes: Mapped[int | None] = mapped_column(Integer)  # per day, Europe/Istanbul
    max_call_attempts_per_minute: Mapped[int | None] = mapped_column(Integer)  # per extension, outbound
    # A trial ended unconverted (pbx/billing/terms.py): calls are refused with a message; nothing is deleted.
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class ApiToken(Base):
    """Bearer tokens, kept only as SHA-256 digests. tenant_id NULL = operator."""

    __tablename__ = "api_tokens"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until revoked
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the minute (pbx/services/tokens.py)


class Extension(Base):
    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("tenant_id", "number"), NEVER_REUSE_IDS)

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
    __table_args__ = NEVER_REUSE_IDS

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
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    destination: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NumberAllocation(Base):
    """A public number an operator gave a tenant: only then may the tenant route it.
    The base of the number pool (billing builds ranges and prices on it)."""

    __tablename__ = "number_allocations"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Trunk(Base):
    """A carrier. Calls from its `match` addresses are inbound calls to the number in
    the request URI; the default_outbound trunk carries outbound calls."""

    __tablename__ = "trunks"
    __table_args__ = NEVER_REUSE_IDS

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
    __table_args__ = NEVER_REUSE_IDS

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
    __table_args__ = NEVER_REUSE_IDS

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
    __table_args__ = NEVER_REUSE_IDS

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
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extensions.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(String(40), unique=True)
    caller: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once the recording has settled (pbx/voicemail/announcer.py): with a duration, the
    # message exists (voicemail.created, its e-mail owed); without one, nothing was said.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class Recording(Base):
    """An archived call recording. Its audio is <archive>/<tenant>/<yyyy>/<mm>/<dd>/<file_id>.wav.enc
    (pbx/recordings/store.py); file_id comes from Asterisk's spool name, so archiving
    the same spool file twice can only ever find this one row."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_tenant_started", "tenant_id", "started_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    file_id: Mapped[str] = mapped_column(String(32), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[int] = mapped_column(Integer)
    caller: Mapped[str] = mapped_column(String(20))
    callee: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plain WAV the customer downloads
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The recording's own data key, wrapped by a master key (pbx/recordings/keys.py): the only
    # copy, so deleting the row shreds the file. NULL: archived before data keys (PBXREC1).
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(64))


class RecordingAccess(Base):
    """KVKK access log: who did what to which recording, hash-chained per tenant.
    No foreign keys: the log outlives the recordings (and tenants) it speaks of."""

    __tablename__ = "recording_access_log"
    __table_args__ = (Index("ix_recording_access_log_tenant_recording", "tenant_id", "recording_id"),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    recording_id: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # read | delete | erasure | retention | ...
    actor: Mapped[str] = mapped_column(String(40))  # token:<id> | operator:<id> | system | cli
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RecordingDestruction(Base):
    """Proof that a recording's data is gone: what it was, when, why and by whom."""

    __tablename__ = "recording_destructions"
    __table_args__ = (Index("ix_recording_destructions_file_pending", "file_pending",
                            sqlite_where=text("file_pending"), postgresql_where=text("file_pending")),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    file_id: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    destroyed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(16))  # retention | deleted | erasure | plan_change | tenant_deleted
    actor: Mapped[str] = mapped_column(String(40))
    # Shredded (unreadable) but its file not yet removed: the background remover's work list.
    file_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class CallLeg(Base):
    """One of Asterisk's CDRs, as received (AMI or its CSV copy); (uniqueid, sequence)
    is Asterisk's identity of a CDR, so a replayed record is stored once. Raw
    Asterisk data: tenant_id is what the dialplan tagged, with no foreign key."""

    __tablename__ = "call_legs"
    __table_args__ = (UniqueConstraint("uniqueid", "sequence"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(BigInteger)
    linkedid: Mapped[str] = mapped_column(String(32), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    disposition: Mapped[str] = mapped_column(String(12))
    tenant_id: Mapped[int | None] = mapped_column(Integer)
    route: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(20))
    dialled: Mapped[str | None] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(32))
    callee: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(12))
    recording: Mapped[str | None] = mapped_column(String(40))
    jitter_ms: Mapped[float | None] = mapped_column(Float)
    loss_percent: Mapped[float | None] = mapped_column(Float)
    rtt_ms: Mapped[float | None] = mapped_column(Float)


class Call(Base):
    """A call record: all legs of one Asterisk linkedid folded (pbx/calls/fold.py).
    tenant_id NULL: a call no tenant owns (an unknown number); never shown to tenants."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_tenant_started", "tenant_id", "started_at", "id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(32), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    direction: Mapped[str] = mapped_column(String(8))
    caller: Mapped[str | None] = mapped_column(String(32))
    callee: Mapped[str | None] = mapped_column(String(32))
    number: Mapped[str | None] = mapped_column(String(32))
    extension: Mapped[str | None] = mapped_column(String(32))
    disposition: Mapped[str] = mapped_column(String(10))
    duration_s: Mapped[int] = mapped_column(Integer)
    billsec: Mapped[int] = mapped_column(Integer)
    wait_s: Mapped[int | None] = mapped_column(Integer)  # answered - started: stored, so reports average it portably
    recording_file_id: Mapped[str | None] = mapped_column(String(40))
    jitter_ms: Mapped[float | None] = mapped_column(Float)
    loss_percent: Mapped[float | None] = mapped_column(Float)
    rtt_ms: Mapped[float | None] = mapped_column(Float)


class CdrFileState(Base):
    """How far Asterisk's CSV copy of the CDRs has been read: the file's inode and a
    byte offset, committed with the legs read up to it."""

    __tablename__ = "cdr_file_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    inode: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)


class SipBan(Base):
    """A source address banned after repeated SIP authentication failures (pbx/security/bans.py).
    Active while not lifted and not expired; kept afterwards as history."""

    __tablename__ = "sip_bans"
    __table_args__ = (Index("ix_sip_bans_address", "address"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(45))
    failures: Mapped[int] = mapped_column(Integer)
    banned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SipBanAllowed(Base):
    """A network (CIDR) whose addresses are never banned."""

    __tablename__ = "sip_ban_allowlist"

    network: Mapped[str] = mapped_column(String(49), primary_key=True)


class Job(Base):
    """A provisioning job (pbx/jobs/): its inputs are its rows, so it resumes after a crash.
    tenant_id is NULL for an operator job over many tenants (a bulk plan change)."""

    __tablename__ = "jobs"
    # AUTOINCREMENT: a pruned job's id is never handed out again (SQLite would reuse the highest).
    __table_args__ = (Index("ix_jobs_status", "status", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # queued | running | succeeded | failed | cancelled
    mode: Mapped[str] = mapped_column(String(8))  # atomic | each
    validated: Mapped[bool] = mapped_column(Boolean, default=False)  # every row checked once, up front
    params: Mapped[dict] = mapped_column(JSON)  # what the kind needs besides its rows
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    result_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRow(Base):
    """One input row of a job, keyed by (job, row): done and failed rows are never run
    again, and a row's outcome commits with the work it describes."""

    __tablename__ = "job_rows"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 = the first data row
    input: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | done | failed
    code: Mapped[str | None] = mapped_column(String(24))
    message: Mapped[str | None] = mapped_column(String(300))
    object_id: Mapped[int | None] = mapped_column(Integer)  # the extension (or tenant) it made
    sip_username: Mapped[str | None] = mapped_column(String(40))
    # The SIP password, sealed (pbx/jobs/sealing.py) until the result is first read, then NULL.
    secret: Mapped[str | None] = mapped_column(String(200))

# Events and webhooks (kept apart so this file stays readable); imported here so one
# import of pbx.db.models registers every table.
from pbx.db.event_tables import EventCounter, EventRow, Webhook, WebhookDelivery  # noqa: E402,F401
from pbx.db.billing_tables import BillingAccount, InternationalRate, Invoice, MonthlyUsage, OneOffCharge, Reseller, ResellerToken  # noqa: E402,F401
from pbx.db.number_tables import PoolNumber, PortingRequest  # noqa: E402,F401
from pbx.db.voicemail_tables import VoicemailMail  # noqa: E402,F401
from pbx.db.crm_tables import CrmCallLog, CrmConnection  # noqa: E402,F401
# Panel users and their sessions.
from pbx.db.user_tables import User, WebSession  # noqa: E402,F401
# Service operations (pbx/ops/).
from pbx.db.ops_tables import (  # noqa: E402,F401
    CallTrunk, Fault, FaultCall, FaultHistory, FaultTenant, Notice, NoticeAttempt, NoticeContact, TrunkStatus,
)
