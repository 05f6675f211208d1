"""Service operations: trunk monitoring, fault records and their deadlines, outage notices,
metrics and reports. `Operations` is what the API is handed of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Operations:
    monitor: Any  # pbx.ops.monitor.TrunkMonitor
    faults: Any = None  # pbx.ops.faults.FaultService
    metrics: Any = None  # pbx.ops.metrics.Metrics
