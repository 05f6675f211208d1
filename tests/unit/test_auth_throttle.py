"""The failed-authentication throttle as pure logic, on a fake clock."""
from __future__ import annotations

from pbx.api.throttle import AuthThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_throttled_after_the_limit_until_its_oldest_failure_ages_out():
    clock = Clock()
    throttle = AuthThrottle(failures=3, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.failed("10.0.0.1")
        clock.now += 10
    assert throttle.retry_after("10.0.0.1") == 30  # the first failure leaves the window at 1060
    assert throttle.retry_after("10.0.0.2") is None  # other addresses are unaffected
    clock.now += 30
    assert throttle.retry_after("10.0.0.1") is None


def test_memory_is_bounded_by_forgetting_the_least_recent_address(monkeypatch):
    import pbx.api.throttle as module

    monkeypatch.setattr(module, "MAX_ADDRESSES", 2)
    throttle = AuthThrottle(failures=1, window=60, clock=Clock())
    for address in ("a", "b", "c"):
        throttle.failed(address)
    assert throttle.retry_after("a") is None and throttle.retry_after("c") == 60
