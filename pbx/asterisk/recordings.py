"""What Asterisk says about call recordings: which spool stems live channels are
still recording into (Status with the channel variable), and when one may have
finished (the call's CDR, which names its recording)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from pbx.asterisk import cdrfields
from pbx.asterisk.ami import Ami
from pbx.domain.errors import AsteriskUnavailable

log = logging.getLogger(__name__)

RECORDING_VAR = "PBX_RECORDING"  # set by dialplans/pbx.conf when MixMonitor starts
UNSET = "(null)"  # how Status shows a variable the channel does not have (the callee's leg)


async def active_recordings(ami: Ami) -> set[str] | None:
    """Stems being recorded right now; None when Asterisk cannot be asked (the
    caller then falls back to a longer quiet period)."""
    try:
        messages = await ami.action({"Action": "Status", "Variables": RECORDING_VAR})
    except AsteriskUnavailable:
        return None
    if any(m.get("Response") == "Error" for m in messages):
        return None
    stems = set()
    for message in messages:
        if message.get("Event") == "Status":
            stems.update(_values(message.get("Variable")))
    return stems


def _values(raw) -> list[str]:
    items = raw if isinstance(raw, list) else [raw] if raw else []
    prefix = RECORDING_VAR + "="
    values = [item[len(prefix):] for item in items if isinstance(item, str) and item.startswith(prefix)]
    return [value for value in values if value and value != UNSET]


def recording_finished_handler(callback: Callable[[], None]) -> Callable[[object, dict], None]:
    """An AMI `Cdr` handler that calls callback (no arguments) whenever a recorded call has
    ended: its `Cdr` event, which comes once the call is over, names the recording.
    (Asterisk raises MixMonitorStop only after StopMixMonitor, which the dialplan never
    uses, and a Hangup event for every channel of every call would wake the sweep for
    unrecorded calls too.) The composition root registers it."""
    def handler(_manager, message) -> None:
        if message.get(cdrfields.RECORDING_KEY):
            callback()

    return handler
