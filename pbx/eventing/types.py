"""The event types a tenant can subscribe to, and how a webhook's list matches one."""
from __future__ import annotations

EVENT_TYPES = frozenset({
    "call.ringing", "call.answered", "call.ended", "voicemail.created", "extension.registered",
    "extension.unregistered", "job.finished", "fraud.suspected", "webhook.disabled",
})


def matches(subscribed: list[str], type: str) -> bool:
    return "*" in subscribed or type in subscribed
