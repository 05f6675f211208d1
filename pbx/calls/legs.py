"""One Asterisk CDR (a "leg" of a call) from its fields, checked strictly. Pure.

The fields come from the AMI `Cdr` event or from Asterisk's CSV copy, under the
keys of pbx/asterisk/cdrfields.py. Values reach us from the network (caller
numbers) and from the dialplan; anything that is not exactly what we expect is
dropped, never stored or passed on.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

_ASTERISK_ID = re.compile(r"^[0-9]{1,20}\.[0-9]{1,10}$")
_DIGITS = re.compile(r"^[0-9+*#]{1,32}$")
_TOKEN = re.compile(r"^[a-z][a-z-]{0,19}$")
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
OUTCOMES = frozenset({"refused", "failed"})


@dataclass(frozen=True)
class Quality:
    jitter_ms: float
    loss_percent: float
    rtt_ms: float


@dataclass(frozen=True)
class Leg:
    uniqueid: str
    sequence: int
    linkedid: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    tenant_id: int | None = None
    route: str | None = None  # "route" (from an extension) | "inbound" (from a trunk)
    action: str | None = None  # the routing decision: dial, outbound, refused, ...
    dialled: str | None = None
    caller: str | None = None
    callee: str | None = None  # who answered (connected line)
    outcome: str | None = None  # set by the dialplan: refused | failed
    recording: str | None = None  # recording file id (pbx/domain/recording.py)
    quality: Quality | None = None

    @property
    def key(self) -> tuple[str, int]:
        """Asterisk's identity of a CDR: replays of the same record share it."""
        return self.uniqueid, self.sequence


def parse_leg(fields: Mapping[str, str]) -> Leg | None:
    """The leg, or None when the record is not one of ours or is malformed."""
    uniqueid, linkedid = fields.get("PbxUniqueid", ""), fields.get("PbxLinkedid", "")
    sequence, disposition = fields.get("PbxSequence", ""), fields.get("PbxDisposition", "")
    start, end = _epoch(fields.get("PbxStart")), _epoch(fields.get("PbxEnd"))
    if not (_ASTERISK_ID.fullmatch(uniqueid) and _ASTERISK_ID.fullmatch(linkedid) and sequence.isascii()
            and sequence.isdigit() and len(sequence) <= 12 and disposition in DISPOSITIONS
            and start and end):
        return None
    return Leg(
        uniqueid, int(sequence), linkedid, start, _epoch(fields.get("PbxAnswer")), max(start, end), disposition,
        tenant_id=_tenant(fields.get("PbxTenant")),
        route=_match(_TOKEN, fields.get("PbxRoute")), action=_match(_TOKEN, fields.get("PbxAction")),
        dialled=_match(_DIGITS, fields.get("PbxDialled")), caller=_match(_DIGITS, fields.get("PbxCaller")),
        callee=_match(_DIGITS, fields.get("PbxCallee")),
        outcome=value if (value := fields.get("PbxOutcome")) in OUTCOMES else None,
        recording=_match(_FILE_ID, fields.get("PbxRecording")),
        quality=parse_quality(fields.get("PbxRtcp") or ""),
    )


def _match(pattern: re.Pattern, value: str | None) -> str | None:
    return value if value and pattern.fullmatch(value) else None


def _epoch(value: str | None) -> datetime | None:
    """CDR(start,u) is "seconds.micros"; an unset time (no answer) is 0."""
    number = _number(value)
    if number is None or not 0 < number < 32503680000:  # before year 3000
        return None
    return datetime.fromtimestamp(number, timezone.utc)


def _tenant(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value) or None
    return None


def _number(value: str | None) -> float | None:
    if not value or len(value) > 32:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_quality(text: str) -> Quality | None:
    """From CHANNEL(rtcp,all);CHANNEL(rtcp,all_rtt): key=value pairs, times in seconds.
    The worse direction counts: what we received and what the far end reported."""
    if len(text) > 1000:
        return None
    stats = {}
    for pair in text.split(";"):
        name, _, value = pair.strip().partition("=")
        if (number := _number(value)) is not None and 0 <= number < 1e9:
            stats[name] = number
    if "rxcount" not in stats or "txcount" not in stats:
        return None
    jitter = max(stats.get("rxjitter", 0.0), stats.get("txjitter", 0.0)) * 1000
    lost_in, lost_out = stats.get("lp", 0.0), stats.get("rlp", 0.0)
    loss = max(_share(lost_in, stats["rxcount"] + lost_in), _share(lost_out, stats["txcount"]))
    rtt = stats.get("avgrtt") or stats.get("rtt", 0.0)
    return Quality(round(jitter, 3), round(loss * 100, 3), round(rtt * 1000, 3))


def _share(part: float, whole: float) -> float:
    return min(part / whole, 1.0) if whole > 0 else 0.0
