"""Replays a raw AMI capture (bench/record_ami.py) through panoramisk's own parser,
with its testing Manager: the control plane's Ami wrapper sends its action and reads
the answer from the capture, and the capture's events reach the handlers registered
as pbx/app.py registers them. No Asterisk, but what a real one said.

Captures live in tests/fixtures/ami/. recorded-call.txt: a KOBİ tenant's recorded
call 101 -> 102, with `Status` (Variables: PBX_RECORDING) sent while it was up, then
the hang-up and its two `Cdr` events (made with bench/record_ami.py --action ...; line
ends made "\n", which is what panoramisk.testing splits on)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from panoramisk import testing, utils

from pbx.asterisk.ami import Ami
from pbx.config import Settings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"


@contextmanager
def replay_ami(capture: str) -> Iterator[Ami]:
    """An Ami, logged in, whose first action is answered from the capture. panoramisk's
    testing Manager sets the module-wide line end to "\n"; it is put back afterwards,
    else a real AMI connection later in the session could no longer parse Asterisk."""
    line_end = utils.EOL
    try:
        manager = testing.Manager(stream=str(FIXTURES / capture), loop=asyncio.get_running_loop())
        ami = Ami(Settings(), manager=manager)
        manager.on_login(manager)  # as panoramisk calls it once Asterisk accepted the login
        yield ami
    finally:
        utils.EOL = line_end


def replay_events(ami: Ami, capture: str) -> None:
    """Every message of the capture, as if Asterisk had just sent it."""
    ami.manager.protocol.data_received((FIXTURES / capture).read_bytes())
