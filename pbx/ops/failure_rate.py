"""A trunk's call-setup failure rate jumping (issue #16: a fault is opened "when a trunk becomes
unreachable or its failure rate jumps"). Pure: outcomes and times in, decisions out.

Each outbound call attempt through a trunk (its AMI DialEnd) is a success or a setup failure
(CHANUNAVAIL, CONGESTION: the carrier refused or could not be reached; BUSY and NOANSWER are
the callee's answer, not the trunk's). Over a sliding window, once it holds at least
`min_calls` attempts, a failed share at or above `ratio` that is also at least `over_baseline`
times the trunk's usual share (the attempts that have left the window, the last BASELINE_CALLS
of them outside incidents; none known yet counts as 0) is an incident: reported once, however
many failures follow. It is over when the window has stayed below that for `recovery_s`
(a window emptied by no calls at all counts as below: no evidence of failure)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

SETUP_FAILURES = frozenset({"CHANUNAVAIL", "CONGESTION"})
BASELINE_CALLS = 500


@dataclass(frozen=True)
class Thresholds:
    window_s: float = 300.0
    min_calls: int = 20
    ratio: float = 0.5
    over_baseline: float = 3.0
    recovery_s: float = 300.0


@dataclass
class _Trunk:
    window: deque = field(default_factory=deque)  # (at seconds, failed)
    baseline: deque = field(default_factory=lambda: deque(maxlen=BASELINE_CALLS))
    incident: bool = False
    normal_since: float | None = None  # during an incident: since when the window is below the ratio


class FailureRate:
    def __init__(self, thresholds: Thresholds):
        self.thresholds = thresholds
        self._trunks: dict[int, _Trunk] = {}

    def observe(self, trunk_id: int, at: float, dial_status: str) -> bool:
        """One attempt's outcome; True when it starts an incident (once per incident)."""
        trunk = self._trunks.setdefault(trunk_id, _Trunk())
        self._age(trunk, at)
        trunk.window.append((at, dial_status in SETUP_FAILURES))
        high = self._high(trunk)
        if trunk.incident:
            trunk.normal_since = None if high else (trunk.normal_since or at)
            return False
        trunk.incident = high
        return high

    def recovered(self, now: float) -> list[int]:
        """The trunks whose incident is over by `now` (each reported once)."""
        over = []
        for trunk_id, trunk in self._trunks.items():
            if not trunk.incident:
                continue
            self._age(trunk, now)
            if self._high(trunk):
                trunk.normal_since = None
                continue
            trunk.normal_since = trunk.normal_since if trunk.normal_since is not None else now
            if now - trunk.normal_since >= self.thresholds.recovery_s:
                trunk.incident, trunk.normal_since = False, None
                over.append(trunk_id)
        return over

    def in_incident(self, trunk_id: int) -> bool:
        trunk = self._trunks.get(trunk_id)
        return bool(trunk and trunk.incident)

    def end_incident(self, trunk_id: int) -> None:
        """Someone else ended it (an operator resolved the fault): a new jump is a new incident."""
        if trunk := self._trunks.get(trunk_id):
            trunk.incident, trunk.normal_since = False, None

    def _age(self, trunk: _Trunk, now: float) -> None:
        while trunk.window and trunk.window[0][0] <= now - self.thresholds.window_s:
            _, failed = trunk.window.popleft()
            if not trunk.incident:  # an incident's failures would make the next one look usual
                trunk.baseline.append(failed)

    def _high(self, trunk: _Trunk) -> bool:
        t = self.thresholds
        attempts = len(trunk.window)
        if attempts < t.min_calls:
            return False
        share = sum(failed for _, failed in trunk.window) / attempts
        usual = sum(trunk.baseline) / len(trunk.baseline) if trunk.baseline else 0.0
        return share >= t.ratio and share >= t.over_baseline * usual
