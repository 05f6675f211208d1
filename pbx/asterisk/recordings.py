"""What Asterisk says about call recordings: which spool stems live channels are
still recording into (Status with the channel variable), and when one may have
finished (MixMonitorStop / Hangup events)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from pbx.asterisk.ami import Ami
from pbx.domain.errors import AsteriskUnavailable

log = logging.getLogger(__name__)

RECORDING_VAR = "PBX_RECORDING"  # set by dialplans/pbx.conf when MixMonitor starts
FINISH_EVENTS = ("MixMonitorStop", "Hangup")


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
    return [item[len(prefix):] for item in items if isinstance(item, str) and item.startswith(prefix)
            and len(item) > len(prefix)]


def on_recording_finished(ami: Ami, callback: Callable[[], None]) -> None:
    """Calls callback (no arguments) whenever a recording may just have been closed."""
    def handler(_manager, _message) -> None:
        callback()

    for event in FINISH_EVENTS:
        ami.manager.register_event(event, handler)
