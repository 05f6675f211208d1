"""What keeps a slow or failing CRM from costing calls: a short per-number cache and a
circuit breaker per tenant. Pure: the caller passes the time (monotonic seconds)."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


class AnswerCache:
    """The last answers (a contact, or "nobody": None) per key, each for `ttl_s`; at most
    `max_entries`, the oldest dropped first. A caller who rings twice in a minute is looked
    up once, and a burst of calls cannot grow it without bound."""

    MISS = object()

    def __init__(self, ttl_s: float, max_entries: int = 10_000):
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: OrderedDict[object, tuple[float, object]] = OrderedDict()

    def get(self, key, now: float):
        """The cached answer, or AnswerCache.MISS."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            self._entries.pop(key, None)
            return self.MISS
        return entry[1]

    def put(self, key, answer, now: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (now + self.ttl_s, answer)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, prefix) -> None:
        """Every entry whose key is a tuple starting with `prefix` (a tenant's, when its CRM changes)."""
        for key in [k for k in self._entries if isinstance(k, tuple) and k[0] == prefix]:
            del self._entries[key]


@dataclass
class CircuitBreaker:
    """Closed: calls go through. After `threshold` failures in a row it opens for
    `open_s`: calls are refused at once (no waiting on a CRM that is down). Then one
    trial call is let through (half-open): success closes it, failure opens it again."""

    threshold: int = 3
    open_s: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False

    def allow(self, now: float) -> bool:
        if self.opened_at is None:
            return True
        if now - self.opened_at < self.open_s or self.trial_running:
            return False
        self.trial_running = True
        return True

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.trial_running = 0, None, False

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.trial_running or self.failures >= self.threshold:
            self.opened_at = now
        self.trial_running = False

    @property
    def state(self) -> str:
        return "closed" if self.opened_at is None else "open"
