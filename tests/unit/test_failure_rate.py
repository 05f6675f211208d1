"""The failure-rate jump detector at its edges: the minimum number of attempts, the ratio, the
trunk's baseline, one incident however many failures, and the recovery time."""
from __future__ import annotations

from pbx.ops.failure_rate import FailureRate, Thresholds

RULES = Thresholds(window_s=60, min_calls=10, ratio=0.5, over_baseline=3, recovery_s=30)


def feed(detector: FailureRate, outcomes: list[str], *, start: float = 0.0, step: float = 1.0, trunk: int = 1):
    return [detector.observe(trunk, start + i * step, status) for i, status in enumerate(outcomes)]


def test_one_attempt_short_of_the_minimum_decides_nothing_and_the_minimum_opens():
    detector = FailureRate(RULES)
    assert feed(detector, ["CONGESTION"] * 9) == [False] * 9
    assert detector.observe(1, 9.0, "CHANUNAVAIL") is True and detector.in_incident(1)


def test_the_ratio_is_reached_at_exactly_the_threshold_and_not_just_below():
    below = FailureRate(RULES)  # 4 failures in 9 attempts, then an answer: 4/10 < 0.5
    assert not any(feed(below, ["ANSWER"] * 5 + ["CONGESTION"] * 4 + ["ANSWER"]))
    at = FailureRate(RULES)  # 5 of 10
    assert feed(at, ["ANSWER"] * 5 + ["CONGESTION"] * 5)[-1] is True


def test_busy_and_no_answer_are_the_callees_answers_not_trunk_failures():
    detector = FailureRate(RULES)
    assert not any(feed(detector, ["BUSY", "NOANSWER", "CANCEL"] * 10))


def test_a_trunk_that_usually_fails_this_much_has_no_jump():
    detector = FailureRate(RULES)
    usual = ["CONGESTION", "ANSWER", "CONGESTION", "ANSWER", "ANSWER"] * 12  # 40 % for a minute
    assert not any(feed(detector, usual, step=1.0))
    # later the window holds only new attempts (the old ones are the baseline): 60 % is above
    # the ratio but not 3 x the usual 40 %
    later = feed(detector, ["CONGESTION"] * 6 + ["ANSWER"] * 4, start=200.0)
    assert not any(later) and not detector.in_incident(1)


def test_many_failures_are_one_incident_and_it_ends_after_the_recovery_time():
    detector = FailureRate(RULES)
    opened = feed(detector, ["CONGESTION"] * 40)
    assert opened.count(True) == 1
    assert detector.recovered(39.0) == []  # still failing
    # the failures leave the window at 39 + 60 = 99 s; below the ratio from then on
    assert detector.recovered(99.0) == []
    assert detector.recovered(128.9) == []  # 29.9 s below: not yet
    assert detector.recovered(129.0) == [1] and not detector.in_incident(1)
    assert detector.recovered(200.0) == []  # reported once


def test_failing_again_during_the_recovery_starts_its_clock_again_and_trunks_are_apart():
    detector = FailureRate(RULES)
    feed(detector, ["CONGESTION"] * 10)
    feed(detector, ["ANSWER"] * 10, trunk=2)
    assert detector.recovered(70.0) == []  # below since 70 (the failures left the window)
    feed(detector, ["CONGESTION"] * 10, start=80.0)  # high again
    assert detector.recovered(105.0) == []
    assert detector.recovered(155.0) == []  # gone from the window at 149; seen below from 155
    assert detector.recovered(184.9) == []
    assert detector.recovered(185.0) == [1]
    assert not detector.in_incident(2)


def test_an_incident_ended_elsewhere_lets_the_next_jump_open_again():
    detector = FailureRate(RULES)
    feed(detector, ["CONGESTION"] * 10)
    detector.end_incident(1)
    assert detector.observe(1, 10.0, "CONGESTION") is True
