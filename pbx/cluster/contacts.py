"""Extension status in a cluster: a phone's contact is held by the one node it registered on,
which need not be this control plane's own. Asked here first, then each other node's AMI
(`PBX_CLUSTER_PEERS`), over a short-lived connection of its own, until one holds it."""
from __future__ import annotations

from dataclasses import replace

from pbx.asterisk.ami import Ami, AsteriskUnavailable
from pbx.config import Settings


def peer_addresses(text: str) -> list[tuple[str, int]]:
    """'10.0.0.11:5038,10.0.0.12:5038' -> [(host, port), ...]."""
    peers = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = item.rpartition(":")
        peers.append((host, int(port)))
    return peers


class ClusterContacts:
    def __init__(self, settings: Settings, local: Ami, *, connect_timeout: float = 2.0):
        self.settings = settings
        self.local = local
        self.peers = peer_addresses(settings.cluster_peers)
        self.connect_timeout = connect_timeout

    async def contacts(self, endpoint: str) -> list[dict]:
        found = await self.local.contacts(endpoint)
        for host, port in self.peers:
            if found:
                break
            found = await self._peer_contacts(host, port, endpoint)
        return found

    async def _peer_contacts(self, host: str, port: int, endpoint: str) -> list[dict]:
        ami = Ami(replace(self.settings, ami_host=host, ami_port=port))
        await ami.start()
        try:
            if not await ami.wait_connected(self.connect_timeout):
                return []  # a dead node holds no contact anyone can reach
            return await ami.contacts(endpoint)
        except AsteriskUnavailable:
            return []
        finally:
            ami.close()
