"""Encryption at rest: AES-256-GCM in 64 KiB chunks, so files of any length are
written and read in constant memory and a chunk cannot be cut, reordered or
swapped between files without the tag failing.

File layout: MAGIC (8) | key id (8) | nonce prefix (8) | chunks. The magic is
the format version: PBXREC1 files are encrypted with a master key directly (the
key id names it); PBXREC2 files with the recording's own data key, which only
its row holds, wrapped (pbx/recordings/keys.py). Chunk i is
AES-GCM(key, nonce = prefix || i as 4 bytes big-endian, AAD = the 24-byte header
|| i || last-flag) and is CHUNK plain bytes + a 16-byte tag; only the last chunk
may be shorter (an empty file is one empty last chunk), and its flag says it is
the last, so truncation at a chunk boundary is detected too."""
from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pbx.recordings.keys import key_id

MAGIC = b"PBXREC1\0"  # encrypted with a master key (archives made before data keys)
MAGIC_V2 = b"PBXREC2\0"  # encrypted with the recording's data key
CHUNK = 64 * 1024
TAG = 16
HEADER = 24


class Corrupt(Exception):
    """The archive file was not written with this key, or was changed."""


def load_or_create_key(path: Path) -> bytes:
    """The archive key: 32 random bytes in a 0600 file outside the database,
    created atomically at first start (O_EXCL: two starters cannot both win)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise ValueError(f"{path}: a recording key is 32 bytes, this is {len(key)}")
        return key
    try:
        os.write(fd, os.urandom(32))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.read_bytes()


def read_header(path: Path) -> bytes:
    with open(path, "rb") as source:
        return source.read(HEADER)


class Cipher:
    def __init__(self, key: bytes, magic: bytes = MAGIC):
        self._aes = AESGCM(key)
        self.magic = magic
        self.key_id = key_id(key)

    def _header(self, prefix: bytes) -> bytes:
        return self.magic + self.key_id + prefix

    def encrypt(self, source: BinaryIO, target: BinaryIO) -> None:
        prefix = os.urandom(8)
        header = self._header(prefix)
        target.write(header)
        index, chunk = 0, source.read(CHUNK)
        while True:
            following = source.read(CHUNK) if len(chunk) == CHUNK else b""
            last = not following
            target.write(self._aes.encrypt(_nonce(prefix, index), chunk, _aad(header, index, last)))
            if last:
                return
            index, chunk = index + 1, following

    def decrypt(self, source: BinaryIO) -> Iterator[bytes]:
        """Plain chunks, one at a time; Corrupt if anything does not check out."""
        header = source.read(HEADER)
        if len(header) != HEADER or header[:8] != self.magic or header[8:16] != self.key_id:
            raise Corrupt("not an archive file of this key")
        prefix, index = header[16:], 0
        sealed = source.read(CHUNK + TAG)
        while True:
            following = source.read(CHUNK + TAG) if len(sealed) == CHUNK + TAG else b""
            last = not following
            try:
                yield self._aes.decrypt(_nonce(prefix, index), sealed, _aad(header, index, last))
            except Exception as exc:  # InvalidTag, or a chunk too short to hold a tag
                raise Corrupt(f"chunk {index} does not verify") from exc
            if last:
                return
            index, sealed = index + 1, following


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">IB", index, last)
