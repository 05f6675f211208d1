"""Asterisk's own CSV copy of the CDRs (cdr_custom): read from where we stopped.

The position (inode + byte offset) is committed in the same transaction as the
legs read up to it, so a crash re-reads at most one uncommitted batch, and legs
are keyed by Asterisk's identity, so re-reading is harmless. A new inode or a file
shorter than the offset (rotated or truncated) is read from the start.
"""
from __future__ import annotations

import asyncio
import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from pbx.asterisk.cdrfields import KEYS
from pbx.calls.legs import Leg, parse_leg
from pbx.calls.store import store_legs
from pbx.db.models import CdrFileState
from pbx.db.unit import Database

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Chunk:
    """Complete lines read from `start` (0 after a rotation) up to `end`, parsed."""
    inode: int
    start: int
    end: int
    legs: list[Leg]


def parse_lines(data: bytes) -> list[Leg]:
    """Complete CSV lines -> legs; malformed lines are skipped."""
    text = data.decode("utf-8", "replace")
    legs = []
    for row in csv.reader(text.splitlines()):
        if len(row) == len(KEYS) and (leg := parse_leg(dict(zip(KEYS, row)))):
            legs.append(leg)
    return legs


def read_chunk(path: Path, inode: int, offset: int, chunk_bytes: int = CHUNK_BYTES) -> Chunk:
    """The complete lines after offset, at most a chunk of them; blocking (run in a thread)."""
    try:
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            if stat.st_ino != inode or stat.st_size < offset:
                inode, offset = stat.st_ino, 0
            file.seek(offset)
            data = file.read(chunk_bytes)
            complete = data.rfind(b"\n") + 1
            if not complete and len(data) == chunk_bytes:
                return Chunk(inode, offset, _past_overlong_line(file, offset, chunk_bytes), [])
    except FileNotFoundError:
        return Chunk(inode, offset, offset, [])
    return Chunk(inode, offset, offset + complete, parse_lines(data[:complete]))


def _past_overlong_line(file, start: int, chunk_bytes: int) -> int:
    """A line longer than a chunk is no CDR (cdr_custom writes a few hundred bytes per
    call): it is skipped whole, else reading would stop at it for good. Until its end
    is written, nothing is read past its start."""
    position = start + chunk_bytes
    while data := file.read(chunk_bytes):
        if (newline := data.find(b"\n")) >= 0:
            log.warning("skipped a %d-byte line of Asterisk's CDR file at offset %d",
                        position + newline - start, start)
            return position + newline + 1
        position += len(data)
    return start


class CdrFile:
    def __init__(self, path: Path, database: Database, *, chunk_bytes: int = CHUNK_BYTES, on_calls=None):
        self.path = path
        self.database = database
        self.chunk_bytes = chunk_bytes
        self.on_calls = on_calls  # async (unit, linkedids): calls read back here raise their events too

    async def reconcile(self) -> int:
        """Reads everything new; returns how many legs were read. The file is read and
        parsed in a thread, outside the write lock: only storing holds it."""
        total = 0
        while True:
            async with self.database.read() as session:
                state = await session.get(CdrFileState, self.path.name)
                position = (state.inode, state.offset) if state else (-1, 0)
            chunk = await asyncio.to_thread(read_chunk, self.path, *position, self.chunk_bytes)
            if chunk.end == chunk.start:
                return total
            async with self.database.unit() as unit:
                state = await unit.session.get(CdrFileState, self.path.name)
                if position != ((state.inode, state.offset) if state else (-1, 0)):
                    continue  # another reconcile moved on meanwhile: read again from there
                touched = await store_legs(unit.session, chunk.legs)
                if touched and self.on_calls is not None:
                    await self.on_calls(unit, touched)
                state = state or CdrFileState(name=self.path.name)
                state.inode, state.offset = chunk.inode, chunk.end
                unit.session.add(state)
            total += len(chunk.legs)
