"""Carriers behind the cluster's Kamailio. Trunks are identified by the source address of their
requests (a trunk's `match`), but behind Kamailio every request reaches a node from Kamailio's
address. So Kamailio, which sees the real source, recognises the carrier: its htable `carriers`
(address -> trunk SIP id) is kept equal to the trunks table by the primary control plane, over
Kamailio's control socket, at start, after every committed change of trunks, and every
`interval_s` (a restarted Kamailio starts empty). For a new request from such an address
Kamailio adds `X-Pbx-Carrier: <trunk SIP id>` (after removing any copy the sender put there: it
strips the header from every request that is not a node's), and the node identifies the trunk
by that header (pbx/asterisk/trunks.py)."""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import subprocess

from sqlalchemy import select

from pbx.cluster.kamailio import control_rpc
from pbx.db.models import Trunk
from pbx.db.unit import Database
from pbx.tasks import WakeableLoop

log = logging.getLogger(__name__)

HTABLE = "carriers"
# A match network wider than this is not loaded (an htable knows single addresses, not
# networks); carriers announce a few signalling addresses, not whole ranges.
MAX_ADDRESSES = 256


def carrier_addresses(trunks) -> dict[str, str]:
    """Each address the trunks match -> its trunk's SIP id; the oldest trunk wins a shared
    address (as a lone node's identify by address would pick one)."""
    found: dict[str, str] = {}
    for trunk in sorted(trunks, key=lambda t: t.id):
        for entry in trunk.match or []:
            network = ipaddress.ip_network(entry, strict=False)
            if network.num_addresses > MAX_ADDRESSES:
                log.warning("trunk %s: %s is too wide for Kamailio's carrier table; not loaded",
                            trunk.sip_id, entry)
                continue
            for address in network:
                found.setdefault(str(address), trunk.sip_id)
    return found


def parse_htable(dump: str) -> dict[str, str]:
    """name -> value, from `htable.dump`."""
    found, name = {}, None
    for line in dump.splitlines():
        line = line.strip()
        if line.startswith("name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("value:") and name is not None:
            found[name] = line.split(":", 1)[1].strip()
            name = None
    return found


class CarrierTable:
    def __init__(self, database: Database, control: str, *, interval_s: float = 30):
        self.database = database
        self.control = control
        self._loop = WakeableLoop("kamailio-carriers", self.sync_once, interval_s=interval_s,
                                  debounce_s=0.05, retry_s=2.0, run_at_start=True)

    def changed(self, _written=None) -> None:
        """A commit listener of the trunks table."""
        self._loop.poke()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def sync_once(self) -> None:
        async with self.database.read() as session:
            wanted = carrier_addresses(await session.scalars(select(Trunk)))
        try:
            await asyncio.to_thread(self._apply, wanted)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            log.warning("Kamailio's carrier table not updated (again in a moment): %s", exc)
            raise

    def _apply(self, wanted: dict[str, str]) -> None:
        """Only the difference: a whole flush would leave a moment with no carriers known."""
        held = parse_htable(control_rpc(self.control, "htable.dump", HTABLE))
        for address in held.keys() - wanted.keys():
            control_rpc(self.control, "htable.delete", HTABLE, address)
        for address, sip_id in wanted.items():
            if held.get(address) != sip_id:
                control_rpc(self.control, "htable.sets", HTABLE, address, sip_id)
        if held != wanted:
            log.info("Kamailio's carrier table: %d addresses", len(wanted))
