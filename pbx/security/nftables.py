"""Enforces SIP bans in the kernel with nftables: a banned address's packets to the SIP
ports are dropped, so a scanner gets no answer at all (an Asterisk ACL would answer 403).

Everything lives in one table of our own, named after the SIP port (two instances on one
host never touch each other's), that matches only the SIP ports and the banned sources.
Each ban is a set element with its own timeout, so the kernel lifts it on time even if the
control plane is down. The table is rebuilt at start and deleted at stop. Needs root
(CAP_NET_ADMIN) and the `nft` command (Debian package nftables)."""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import shutil

log = logging.getLogger(__name__)


def table_name(sip_port: int) -> str:
    return f"pbx_sip_{sip_port}"


def ruleset(table: str, udp_ports: list[int], tcp_ports: list[int]) -> str:
    """The table, recreated empty: `table` + `delete table` first makes the delete safe
    when it does not exist yet; nft applies the whole script as one transaction."""
    rules = []
    for family, saddr in (("ip", "banned4"), ("ip6", "banned6")):
        for proto, ports in (("udp", udp_ports), ("tcp", tcp_ports)):
            if ports:
                rules.append(f"    {family} saddr @{saddr} {proto} dport {{ {', '.join(map(str, ports))} }} drop")
    return "\n".join([
        f"table inet {table}", f"delete table inet {table}", f"table inet {table} {{",
        "  set banned4 { type ipv4_addr; flags timeout; }",
        "  set banned6 { type ipv6_addr; flags timeout; }",
        "  chain input {", "    type filter hook input priority filter - 10; policy accept;",
        *rules, "  }", "}", ""])


def _set_of(address: str) -> str:
    return "banned4" if ipaddress.ip_address(address).version == 4 else "banned6"


class NftBans:
    def __init__(self, sip_port: int, udp_ports: list[int], tcp_ports: list[int]):
        self.table = table_name(sip_port)
        self.udp_ports, self.tcp_ports = udp_ports, tcp_ports
        self.enforced = False  # False: bans are recorded but the kernel does not drop anything

    async def start(self, bans: list[tuple[str, int]]) -> None:
        """(address, seconds left) of every active ban."""
        if shutil.which("nft") is None:
            log.error("nft is not installed (Debian package nftables): SIP bans are not enforced")
            return
        script = ruleset(self.table, self.udp_ports, self.tcp_ports)
        script += "".join(self._element("add", a, s) for a, s in bans)
        self.enforced = await self._nft(script)

    async def ban(self, address: str, seconds: int) -> None:
        if self.enforced:
            await self._nft(self._element("add", address, seconds))

    async def lift(self, address: str) -> None:
        if self.enforced:
            await self._nft(self._element("delete", address), quiet=True)  # may have expired already

    async def stop(self) -> None:
        if self.enforced:
            await self._nft(f"delete table inet {self.table}\n")
            self.enforced = False

    def _element(self, verb: str, address: str, seconds: int | None = None) -> str:
        address = str(ipaddress.ip_address(address))  # never anything else into the script
        timeout = f" timeout {max(1, int(seconds))}s" if seconds is not None else ""
        return f"{verb} element inet {self.table} {_set_of(address)} {{ {address}{timeout} }}\n"

    async def _nft(self, script: str, quiet: bool = False) -> bool:
        proc = await asyncio.create_subprocess_exec(
            "nft", "-f", "-", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate(script.encode())
        if proc.returncode != 0 and not quiet:
            log.error("nft failed (%s): %s", proc.returncode, err.decode(errors="replace").strip())
        return proc.returncode == 0
