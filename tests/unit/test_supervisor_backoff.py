"""The supervisor's restart back-off: doubling while a child keeps failing, reset once it ran."""
from pbx.supervisor import MAX_DELAY_S, STABLE_AFTER_S, Backoff


def test_delays_double_up_to_the_cap_while_the_child_keeps_dying_at_once():
    backoff = Backoff(started=0.0)
    delays = [backoff.delay_after_exit(now=1.0) for _ in range(8)]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert max(delays) == MAX_DELAY_S


def test_a_child_that_ran_a_minute_starts_again_from_the_first_delay():
    backoff = Backoff(started=0.0)
    for _ in range(4):
        backoff.delay_after_exit(now=1.0)
    backoff.started = 100.0
    assert backoff.delay_after_exit(now=100.0 + STABLE_AFTER_S) == 1
    backoff.started = 200.0  # started again, and dead again at once
    assert backoff.delay_after_exit(now=201.0) == 2
