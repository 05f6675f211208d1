"""The one retry schedule of webhook deliveries: exponential backoff with full jitter,
capped, kept up for at least a day; after that the webhook is disabled."""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetrySchedule:
    first_s: float = 10.0
    cap_s: float = 3600.0
    give_up_after_s: float = 24 * 3600.0  # of failing without one success

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds before the next try after `attempts` failed ones: the attempt's
        ceiling (first * 2^(n-1), capped) times a random factor in [0.5, 1] so that
        receivers coming back are not hit by every sender at once, yet never sooner than half."""
        ceiling = min(self.cap_s, self.first_s * 2 ** max(0, attempts - 1))
        return ceiling * (0.5 + 0.5 * (rng or random).random())

    def exhausted(self, failing_for_s: float) -> bool:
        return failing_for_s >= self.give_up_after_s


def schedule_from(spec: str) -> RetrySchedule:
    """"first,cap,give_up" in seconds (PBX_WEBHOOK_RETRY); "" = the defaults."""
    if not spec:
        return RetrySchedule()
    first, cap, give_up = (float(part) for part in spec.split(","))
    return RetrySchedule(first, cap, give_up)
