"""Outbound URLs (webhooks) must not reach the control plane's own network: loopback,
private, link-local (cloud metadata at 169.254.169.254), multicast, reserved. Checked
when a URL is saved and again before each delivery, on the addresses DNS gives then
(a name may be re-pointed after it was saved)."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from pbx.domain.errors import Invalid

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(spec: str) -> tuple[Network, ...]:
    """PBX_OUTBOUND_ALLOW_NETWORKS: comma-separated CIDRs the operator allows anyway."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def check_url_syntax(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise Invalid("url: must be an http(s) URL with a host and no credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Invalid("url: bad port") from exc
    return parts.hostname, port


def address_allowed(address: str, allow: tuple[Network, ...]) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allow):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Invalid(f"url: {host} does not resolve") from exc
    return sorted({info[4][0] for info in infos})


async def checked_addresses(url: str, allow: tuple[Network, ...]) -> list[str]:
    """The URL's addresses, all allowed, or Invalid (422)."""
    host, port = check_url_syntax(url)
    addresses = await resolve(host, port)
    refused = [a for a in addresses if not address_allowed(a, allow)]
    if refused or not addresses:
        raise Invalid(f"url: {host} resolves to an address that is not allowed ({', '.join(refused)})")
    return addresses
