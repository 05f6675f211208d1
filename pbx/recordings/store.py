"""The encrypted archive on disk: one file per recording at a path that follows
from (tenant, start, file_id) alone, so every step can be repeated after a crash
and lands on the same file; the keys that open the files; and the journal of
what was destroyed (which outlives the database it is kept beside)."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pbx.durable import fsync_dir
from pbx.recordings.crypto import HEADER, MAGIC, MAGIC_V2, Cipher, Corrupt, read_header
from pbx.recordings.journal import DestructionJournal
from pbx.recordings.keys import Keyring, key_id, new_data_key
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
    def __init__(self, root: Path, keyring: Keyring, journal: DestructionJournal):
        self.root = root
        self.keyring = keyring
        self.journal = journal
        # Called after a commit that shredded recordings: their files can now go
        # (the composition root registers the background remover's poke here).
        self.shredded_listeners: list = []

    async def shredded(self) -> None:
        for listener in self.shredded_listeners:
            listener()

    def path(self, tenant_id: int, started_at, file_id: str) -> Path:
        return self.root / f"{int(tenant_id)}/{started_at:%Y/%m/%d}/{file_id}.wav.enc"

    def write(self, spool: Path, target: Path, wrapped_key: bytes | None = None) -> tuple[Digest, bytes]:
        """Encrypts the spool file to target with a new data key (or the one
        wrapped_key holds), through a temporary file, fsynced, renamed: target is
        either absent, an older complete copy, or this one. Returns the plain
        file's digest and the wrapped data key its row must keep."""
        data_key = self.keyring.unwrap(wrapped_key) if wrapped_key else new_data_key()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(spool, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as source, open(tmp, "wb") as out:
            hashing = _Hashing(source)
            Cipher(data_key, MAGIC_V2).encrypt(hashing, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
        return hashing.digest(), wrapped_key or self.keyring.wrap(data_key)

    def digest(self, target: Path, wrapped_key: bytes | None) -> Digest:
        """Decrypts the archived file and measures the plain WAV (verification)."""
        hashing = _Hashing()
        for chunk in self.plain_chunks(target, wrapped_key):
            hashing.update(chunk)
        return hashing.digest()

    def cipher_for(self, header: bytes, wrapped_key: bytes | None) -> Cipher:
        """PBXREC2: the row's data key (no row, no key: shredded); PBXREC1: the
        master key the header names."""
        if header[:8] == MAGIC_V2:
            if not wrapped_key:
                raise Corrupt("this recording's data key is gone")
            return Cipher(self.keyring.unwrap(wrapped_key), MAGIC_V2)
        if header[:8] == MAGIC and len(header) == HEADER:
            return Cipher(self.keyring.master(header[8:16]), MAGIC)
        raise Corrupt("not an archive file")

    def opens_with(self, target: Path, wrapped_key: bytes | None) -> bool:
        """Whether the file on disk was encrypted with this row's data key (a
        concurrent archiving run may have replaced it with another key's copy)."""
        try:
            header = read_header(target)
        except FileNotFoundError:
            return False
        if header[:8] != MAGIC_V2:
            return wrapped_key is None
        return wrapped_key is not None and header[8:16] == key_id(self.keyring.unwrap(wrapped_key))

    def plain_chunks(self, target: Path, wrapped_key: bytes | None) -> Iterator[bytes]:
        with open(target, "rb") as source:
            cipher = self.cipher_for(source.read(HEADER), wrapped_key)
            source.seek(0)
            yield from cipher.decrypt(source)

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

