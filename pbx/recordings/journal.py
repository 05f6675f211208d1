"""The destruction journal: one JSON line per destroyed recording, appended and
fsynced before the destruction commits, in a file kept beside the master key and
never inside a backup. A database restored from a backup taken before a
destruction has the recording again; restore replays this journal so that it
stays destroyed (KVKK). Journal first, then the commit: a crash in between
leaves a line for a recording that still exists, which the next destruction
run (or a restore) destroys anyway; never the other way round."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

FIELDS = ("recording_id", "tenant_id", "file_id", "sha256", "size_bytes", "started_at", "destroyed_at",
          "reason", "actor")


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


class DestructionJournal:
    def __init__(self, path: Path):
        self.path = path

    def append(self, records: list[dict]) -> None:
        if not records:
            return
        lines = "".join(json.dumps({k: _plain(r[k]) for k in FIELDS}, sort_keys=True) + "\n" for r in records)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                lines = "\n" + lines  # a line torn by a crash stays alone (and is skipped)
            os.write(fd, lines.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[dict]:
        """Every complete line, oldest first; a line torn by a crash is skipped."""
        try:
            source = open(self.path, "rb")
        except FileNotFoundError:
            return
        with source:
            for line in source:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                entry["started_at"] = datetime.fromisoformat(entry["started_at"])
                entry["destroyed_at"] = datetime.fromisoformat(entry["destroyed_at"])
                yield entry
