"""Counting SIP authentication failures per source address. Pure: times are passed in."""
from __future__ import annotations

import collections
import ipaddress

# Asterisk's security events for a SIP peer that failed to authenticate (AMI class "security").
SECURITY_EVENTS = ("InvalidPassword", "ChallengeResponseFailed", "FailedACL", "InvalidAccountID")


def source_address(remote: str) -> str | None:
    """The address in a security event's RemoteAddress ("IPV4/UDP/127.0.0.9/5060"), or None."""
    parts = remote.split("/")
    if len(parts) != 4 or parts[0] not in ("IPV4", "IPV6"):
        return None
    try:
        return str(ipaddress.ip_address(parts[2].strip("[]")))
    except ValueError:
        return None


class FailureWindow:
    """`limit` failures from one address within `window_s` seconds make it ban-worthy."""

    MAX_ADDRESSES = 100_000  # a scan from many addresses must not grow memory without end

    def __init__(self, limit: int, window_s: float):
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, collections.deque[float]] = {}

    def failed(self, address: str, now: float) -> int | None:
        """Records a failure; the count within the window once it reaches the limit, else None.
        The address then starts from zero (its ban is the answer)."""
        times = self._seen.setdefault(address, collections.deque())
        times.append(now)
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            del self._seen[address]
            return len(times)
        if len(self._seen) > self.MAX_ADDRESSES:
            self._forget_stale(now)
        return None

    def _forget_stale(self, now: float) -> None:
        for address in [a for a, t in self._seen.items() if not t or t[-1] <= now - self.window_s]:
            del self._seen[address]


def allowed(address: str, networks: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net) for net in networks)
