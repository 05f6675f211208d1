"""Rows for pbx.routing.snapshot.build, as the snapshot service reads them (tuples, JSON as text)."""
from __future__ import annotations

import json

from pbx.routing.snapshot import Rows

HOURS = [{"days": ["mon"], "open": "09:00", "close": "18:00"}]
TO = {"ext": {"type": "extension", "extension": "101"}, "rg": {"type": "ring_group", "ring_group_id": 5},
      "hunt": {"type": "ring_group", "ring_group_id": 6}, "ivr": {"type": "ivr", "ivr_id": 4},
      "ann": {"type": "announcement", "prompt_id": 7}, "vm": {"type": "voicemail", "extension": "102"},
      "sched": {"type": "schedule", "schedule_id": 8, "open": {"type": "extension", "extension": "101"},
                "closed": {"type": "announcement", "prompt_id": 7}}}


def rows(*, plan: str = "kobi", notice: bool = True, records: tuple[str, ...] = (), voicemail=("102",)) -> Rows:
    """Tenant 1: extensions 101..103, a prompt, an IVR, a schedule, ring groups (all
    and sequential), numbers +90850555000<i> to each destination of TO, in order, and
    one whose stored destination no longer parses. Tenant 2 holds 101 too."""
    ext = [(i, 1, f"10{i}", f"10{i}-t1", f"10{i}" in voicemail, f"10{i}" in records) for i in (1, 2, 3)]
    ext.append((9, 2, "101", "101-t2", False, True))
    numbers = [(20 + i, 1, f"+90850555000{i}", json.dumps(d)) for i, d in enumerate(TO.values())]
    numbers += [(40, 1, "+908505550099", json.dumps({"type": "gone"})), (41, 2, "+908505550200", json.dumps(TO["ext"]))]
    return Rows(
        tenants=[(1, plan, False, notice), (2, "enterprise", True, True)],
        extensions=ext, numbers=numbers,
        trunks=[("trunk-a", False), ("trunk-b", True)],
        prompts=[(7, 1, "/srv/pbx/audio/1/p7")],
        ivrs=[(4, 1, 7, json.dumps({"1": TO["ext"], "2": TO["rg"]}), 5, 2, json.dumps(TO["hunt"]))],
        schedules=[(8, 1, "Europe/Istanbul", json.dumps(HOURS), "[]")],
        ring_groups=[(5, 1, '["102", "103", "999"]', "all", 20, json.dumps(TO["vm"])),
                     (6, 1, '["103", "101"]', "sequential", 15, None)],
    )
