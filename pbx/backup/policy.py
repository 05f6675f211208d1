"""Which backups to keep: the newest of each of the last `daily` days that have
a backup, and the newest of each of the last `weekly` ISO weeks that have one
(the two sets overlap; the newest backup is always kept). Pure: times in, names out."""
from __future__ import annotations

from datetime import datetime


def to_keep(taken: dict[str, datetime], daily: int = 7, weekly: int = 4) -> set[str]:
    newest_first = sorted(taken, key=lambda name: taken[name], reverse=True)
    keep = set(newest_first[:1])
    for bucket, count in ((lambda t: t.date(), daily), (lambda t: t.isocalendar()[:2], weekly)):
        seen = []
        for name in newest_first:
            key = bucket(taken[name])
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.append(key)
            keep.add(name)
    return keep
