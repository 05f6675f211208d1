"""Response shapes of the contract."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pbx.db.models import ApiToken, Extension, Prompt, Tenant
from pbx.domain.plans import PLANS, extension_limit
from pbx.security.fraud import limits_for

TENANT_TZ = ZoneInfo("Europe/Istanbul")


def timestamp(value: datetime | None) -> str | None:
    return value.astimezone(TENANT_TZ).isoformat() if value else None


def tenant(row: Tenant) -> dict:
    plan = PLANS[row.plan]
    return {
        "id": row.id,
        "name": row.name,
        "plan": row.plan,
        "extra_extensions": row.extra_extensions,
        "international_calls": row.international_calls,
        "extension_limit": extension_limit(plan, row.extra_extensions),
        "recording_retention_days": plan.recording_retention_days,
        "record_calls": row.record_calls,
        "recording_notice": row.recording_notice,
        "created_at": timestamp(row.created_at),
        **fraud_limits(row),
    }


def fraud_limits(row: Tenant) -> dict:
    """The limits in force: the operator's where set, else the plan's."""
    limits = limits_for(row.plan, row.max_concurrent_calls, row.max_international_minutes,
                        row.max_call_attempts_per_minute)
    return {"max_concurrent_calls": limits.concurrent_calls,
            "max_international_minutes": limits.international_minutes,
            "max_call_attempts_per_minute": limits.call_attempts_per_minute}


def extension(row: Extension, sip_server: str, password: str | None = None,
              transports: list[dict] | None = None) -> dict:
    # "transports": every way in (UDP, and TLS when configured); media is SRTP (SDES) when the
    # phone offers it, plain RTP otherwise.
    sip = {"username": row.sip_username, "server": sip_server, "transport": "udp",
           "transports": transports or [{"protocol": "udp", "server": sip_server}], "srtp": "optional"}
    if password is not None:
        sip["password"] = password
    return {
        "id": row.id,
        "number": row.number,
        "name": row.name,
        "email": row.email,
        "voicemail": row.voicemail,
        "record_calls": row.record_calls,
        "sip": sip,
        "created_at": timestamp(row.created_at),
    }


def prompt(row: Prompt) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "duration_ms": row.duration_ms,
        "source_format": row.source_format,
        "created_at": timestamp(row.created_at),
    }


def token(row: ApiToken) -> dict:
    """Never the token itself: only its digest is stored."""
    return {"id": row.id, "created_at": timestamp(row.created_at), "expires_at": timestamp(row.expires_at),
            "last_used_at": timestamp(row.last_used_at)}
