"""Asterisk's own CSV copy of the CDRs (cdr_custom): read from where we stopped.

The position (inode + byte offset) is committed in the same transaction as the
legs read up to it, so a crash re-reads at most one uncommitted batch, and legs
are keyed by Asterisk's identity, so re-reading is harmless. A new inode or a file
shorter than the offset (rotated or truncated) is read from the start.
"""
from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

from pbx.asterisk.cdrfields import KEYS
from pbx.calls.legs import Leg, parse_leg
from pbx.calls.store import store_legs
from pbx.db.models import CdrFileState
from pbx.db.unit import Database

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


def parse_lines(data: bytes) -> list[Leg]:
    """Complete CSV lines -> legs; malformed lines are skipped."""
    text = data.decode("utf-8", "replace")
    legs = []
    for row in csv.reader(text.splitlines()):
        if len(row) == len(KEYS) and (leg := parse_leg(dict(zip(KEYS, row)))):
            legs.append(leg)
    return legs


def read_chunk(path: Path, inode: int, offset: int) -> tuple[int, int, bytes]:
    """(inode, start offset, complete lines from there); empty when nothing new."""
    try:
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            if stat.st_ino != inode or stat.st_size < offset:
                inode, offset = stat.st_ino, 0
            file.seek(offset)
            data = file.read(CHUNK_BYTES)
    except FileNotFoundError:
        return inode, offset, b""
    return inode, offset, data[:data.rfind(b"\n") + 1]


class CdrFile:
    def __init__(self, path: Path, database: Database):
        self.path = path
        self.database = database

    async def reconcile(self) -> int:
        """Reads everything new; returns how many legs were read."""
        total = 0
        while True:
            async with self.database.unit() as unit:
                state = await unit.session.get(CdrFileState, self.path.name)
                inode, offset, data = read_chunk(self.path, state.inode if state else -1,
                                                 state.offset if state else 0)
                if not data:
                    return total
                legs = parse_lines(data)
                await store_legs(unit.session, legs)
                state = state or CdrFileState(name=self.path.name)
                state.inode, state.offset = inode, offset + len(data)
                unit.session.add(state)
            total += len(legs)
