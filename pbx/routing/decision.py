"""What a routing decision is: the action of [pbx-apply] that the dialplan takes
(dialplans/pbx.conf) and the channel variables it needs (pbx/agi/channelvars.py).
Every route of pbx/routing returns one; the AGI handlers apply it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    action: str  # an extension of [pbx-apply]: dial, hunt, outbound, refused, announce, ivr, voicemail,
    # hangup, unknown, failure
    dial: str = ""
    ring_seconds: int = 0
    tenant_id: int | None = None
    playback: str = ""  # a prompt path as Asterisk sees it
    ivr_id: int | None = None
    attempt: int = 0
    timeout_s: int = 0
    notice: str = ""  # an Asterisk sound played first (e.g. "option-is-invalid")
    after: str = ""  # what an unanswered call does next: "rg:<ring group id>" or "vm:<extension id>"
    voicemail_ext: int | None = None  # "voicemail": the extension whose box records
    caller_id: str = ""  # outbound: the number the far end sees
    record: bool = False  # Asterisk records the call into the spool (pbx/domain/recording.py)
    recording_notice: str = ""  # inbound: a sound the caller hears before anything else
    max_calls: int = 0  # the tenant's concurrent-call cap, applied by the dialplan ([pbx-limit]); 0: none


UNKNOWN = Decision("unknown")
FAILURE = Decision("failure")
