"""Network namespaces for the nodes of a one-machine cluster: a bridge on the host holding
the subnet's first address (Kamailio, PostgreSQL and the control planes listen there), and
one namespace per node joined to it by a veth pair. Everything made here carries this
cluster's prefix and is removed on every exit path (`Fabric.close`, idempotent); the host's
loopback and other interfaces are never touched."""
from __future__ import annotations

import ipaddress
import logging
import subprocess
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@dataclass
class Fabric:
    """prefix: short and unique per cluster (interface names hold at most 15 characters)."""
    prefix: str
    subnet: ipaddress.IPv4Network
    namespaces: list[str] = field(default_factory=list)
    bridge_up: bool = False

    @property
    def bridge(self) -> str:
        return f"{self.prefix}br"

    @property
    def host_address(self) -> str:
        return str(self.subnet.network_address + 1)

    def node_address(self, index: int) -> str:
        return str(self.subnet.network_address + 10 + index)

    def namespace(self, index: int) -> str:
        return f"{self.prefix}n{index}"

    def open(self) -> None:
        self.close()  # whatever a killed earlier run of this cluster left behind
        _ip("link", "add", self.bridge, "type", "bridge")
        self.bridge_up = True
        _ip("addr", "add", f"{self.host_address}/{self.subnet.prefixlen}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def add_host_address(self, host_number: int) -> str:
        """One more host address on the bridge, the subnet's host_number-th (below the nodes'):
        a carrier's in the tests, reachable from every node. It goes with the bridge."""
        address = str(self.subnet.network_address + host_number)
        _ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", self.bridge)
        return address

    def add_node(self, index: int) -> str:
        """The node's namespace, reachable at node_address(index); returns its name."""
        ns, host_end = self.namespace(index), f"{self.prefix}h{index}"
        _ip("netns", "add", ns)
        self.namespaces.append(ns)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", host_end, "master", self.bridge, "up")
        inside = ["netns", "exec", ns, "ip"]
        _ip(*inside, "addr", "add", f"{self.node_address(index)}/{self.subnet.prefixlen}", "dev", "eth0")
        _ip(*inside, "link", "set", "eth0", "up")
        _ip(*inside, "link", "set", "lo", "up")
        return ns

    def remove_node(self, index: int) -> None:
        ns = self.namespace(index)
        _ip("netns", "delete", ns, check=False)
        if ns in self.namespaces:
            self.namespaces.remove(ns)

    def close(self) -> None:
        """Deleting a namespace deletes its end of the veth, and with it the host's end."""
        for ns in self._existing_namespaces():
            _ip("netns", "delete", ns, check=False)
        self.namespaces.clear()
        for link in self._existing_links():
            _ip("link", "delete", link, check=False)
        self.bridge_up = False

    def _existing_namespaces(self) -> list[str]:
        out = _ip("netns", "list", check=False).stdout.split("\n")
        return [line.split()[0] for line in out if line.startswith(f"{self.prefix}n")]

    def _existing_links(self) -> list[str]:
        out = _ip("-o", "link", "show", check=False).stdout.split("\n")
        names = [line.split(":")[1].strip().split("@")[0] for line in out if line.count(":") >= 2]
        return [name for name in names if name.startswith(self.prefix)]
