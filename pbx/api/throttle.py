"""Failed authentication, counted per source address: past the limit within the
window, the address gets 429 with Retry-After for every request (a valid token
included, so guessing learns nothing) until its oldest failure leaves the window."""
from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

FAILURES = 20
WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 10_000  # memory bound: the least recently failing address is forgotten first


class AuthThrottle:
    def __init__(self, failures: int = FAILURES, window: float = WINDOW_SECONDS, clock=time.monotonic):
        self.failures = failures
        self.window = window
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str) -> int | None:
        """Seconds the address must wait, or None if it may try."""
        times = self._recent(address)
        if times is None or len(times) < self.failures:
            return None
        return max(1, math.ceil(times[0] + self.window - self._clock()))

    def failed(self, address: str) -> None:
        times = self._recent(address)
        if times is None:
            times = self._seen[address] = deque(maxlen=self.failures)
            if len(self._seen) > MAX_ADDRESSES:
                self._seen.popitem(last=False)
        times.append(self._clock())
        self._seen.move_to_end(address)

    def _recent(self, address: str) -> deque[float] | None:
        times = self._seen.get(address)
        if times is not None:
            while times and times[0] <= self._clock() - self.window:
                times.popleft()
        return times


class SignInThrottle:
    """Failed panel sign-ins, counted per source address and per account (the e-mail
    address): guesses spread over many addresses still slow down, at the price that a
    stranger can make one account wait a few minutes. Apart from the token throttle, so an
    office behind one NAT address whose staff mistype passwords does not lock its own
    integrations' tokens out."""

    def __init__(self, per_address: AuthThrottle | None = None, per_account: AuthThrottle | None = None):
        self.per_address = per_address or AuthThrottle()
        self.per_account = per_account or AuthThrottle(failures=10, window=300.0)

    def retry_after(self, address: str, account: str) -> int | None:
        waits = [w for w in (self.per_address.retry_after(address), self.per_account.retry_after(account)) if w]
        return max(waits) if waits else None

    def failed(self, address: str, account: str) -> None:
        self.per_address.failed(address)
        self.per_account.failed(account)
