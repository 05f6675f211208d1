"""The encrypted archive on disk: one file per recording at a path that follows
from (tenant, start, file_id) alone, so every step can be repeated after a crash
and lands on the same file."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pbx.durable import fsync_dir
from pbx.recordings.crypto import Cipher
from pbx.recordings.wav import HEADER_BYTES, duration_s

_READ = 64 * 1024


@dataclass(frozen=True)
class Digest:
    size_bytes: int
    sha256: str
    duration_s: int


class _Hashing:
    """Hashes and counts plain WAV bytes: fed directly (update) or as a reader
    that passes them through (read)."""

    def __init__(self, source: BinaryIO | None = None):
        self.source, self.sha, self.size, self.header = source, hashlib.sha256(), 0, b""

    def update(self, data: bytes) -> None:
        if len(self.header) < HEADER_BYTES:
            self.header += data[:HEADER_BYTES - len(self.header)]
        self.sha.update(data)
        self.size += len(data)

    def read(self, n: int) -> bytes:
        data = self.source.read(n)
        self.update(data)
        return data

    def digest(self) -> Digest:
        return Digest(self.size, self.sha.hexdigest(), duration_s(self.header, max(0, self.size - HEADER_BYTES)))


class ArchiveStore:
    def __init__(self, root: Path, cipher: Cipher):
        self.root = root
        self.cipher = cipher

    def path(self, tenant_id: int, started_at, file_id: str) -> Path:
        return self.root / f"{int(tenant_id)}/{started_at:%Y/%m/%d}/{file_id}.wav.enc"

    def write(self, spool: Path, target: Path) -> Digest:
        """Encrypts the spool file to target (through a temporary file, fsynced,
        renamed: target is either absent, an older complete copy, or this one)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(spool, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as source, open(tmp, "wb") as out:
            hashing = _Hashing(source)
            self.cipher.encrypt(hashing, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
        return hashing.digest()

    def digest(self, target: Path) -> Digest:
        """Decrypts the archived file and measures the plain WAV (verification)."""
        hashing = _Hashing()
        for chunk in self.plain_chunks(target):
            hashing.update(chunk)
        return hashing.digest()

    def plain_chunks(self, target: Path) -> Iterator[bytes]:
        with open(target, "rb") as source:
            yield from self.cipher.decrypt(source)

    @staticmethod
    def remove(target: Path) -> None:
        target.unlink(missing_ok=True)
        target.with_name(target.name + ".tmp").unlink(missing_ok=True)


def file_digest(path: Path) -> Digest:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as source:
        hashing = _Hashing(source)
        while hashing.read(_READ):
            pass
    return hashing.digest()

