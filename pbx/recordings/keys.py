"""The recording master keys and the per-recording data keys they wrap.

A recording is encrypted with its own random data key; the row keeps that key
wrapped (AES key wrap, RFC 3394) by the master key, as master key id (8) ||
wrapped key (40). Deleting the row is then enough to make the file unreadable,
whatever copies of it survive (crypto-shredding).

On disk, beside the current master key file (`recording.key`, 32 bytes, 0600):
  recording.key.retired/<id hex>.key   earlier master keys, still resolvable
  recording.key.next                   a rotation under way (see rotate_files)
Recordings archived before data keys existed (format PBXREC1) are encrypted with
a master key directly; the file header names it, so retired keys must stay until
those recordings have expired."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from pbx.durable import fsync_dir

KEY_BYTES = 32
ID_BYTES = 8


class KeyMissing(Exception):
    """No master key with this id is known here (or the wrapped key is damaged)."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"pbx-recording-key" + key).digest()[:ID_BYTES]


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def retired_dir(path: Path) -> Path:
    return path.with_name(path.name + ".retired")


def next_path(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def write_key_file(path: Path, key: bytes) -> None:
    """0600, complete or absent: through a temporary file, fsynced, renamed."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_key_file(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: a recording key is {KEY_BYTES} bytes, this is {len(key)}")
    return key


class Keyring:
    """The current master key (wraps new data keys) and every key that can still
    unwrap one. A miss, or a key file replaced since it was read, re-reads the
    files: another process (`pbx recordings rotate-key`) may have rotated meanwhile."""

    def __init__(self, path: Path):
        self.path = path
        self.reload()

    def reload(self) -> None:
        self._inode = os.stat(self.path).st_ino
        self.current = read_key_file(self.path)
        self.current_id = key_id(self.current)
        keys = [self.current]
        retired = retired_dir(self.path)
        if retired.is_dir():
            keys += [read_key_file(p) for p in sorted(retired.glob("*.key"))]
        self._keys = {key_id(k): k for k in keys}

    def master(self, ident: bytes) -> bytes:
        if ident not in self._keys:
            self.reload()
        try:
            return self._keys[ident]
        except KeyError:
            raise KeyMissing(f"no recording master key {ident.hex()}") from None

    def known_ids(self) -> set[bytes]:
        return set(self._keys)

    def all_keys(self) -> list[bytes]:
        return [self.current] + [k for i, k in self._keys.items() if i != self.current_id]

    def _fresh(self) -> None:
        if os.stat(self.path).st_ino != self._inode:
            self.reload()  # rotated by another process: wrap with the new key from now on

    def wrap(self, data_key: bytes) -> bytes:
        self._fresh()
        return self.current_id + aes_key_wrap(self.current, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self.master(wrapped[:ID_BYTES]), wrapped[ID_BYTES:])
        except InvalidUnwrap as exc:
            raise KeyMissing("the wrapped data key does not unwrap") from exc

    def rewrap(self, wrapped: bytes) -> bytes:
        """The same data key, wrapped by the current master key (no audio touched)."""
        self._fresh()
        return wrapped if wrapped[:ID_BYTES] == self.current_id else self.wrap(self.unwrap(wrapped))


def rotate_files(path: Path) -> None:
    """Makes a new current master key, keeping the old one as retired. Each step
    can be repeated after a crash: the next key is made once (kept in .next),
    the old key is retired before the next one replaces it, and the rename is
    atomic, so at every moment every wrapped key has its master on disk."""
    pending = next_path(path)
    if not pending.exists():
        write_key_file(pending, os.urandom(KEY_BYTES))
    new = read_key_file(pending)
    old = read_key_file(path)
    if old != new:
        retired = retired_dir(path)
        retired.mkdir(mode=0o700, exist_ok=True)
        write_key_file(retired / f"{key_id(old).hex()}.key", old)
    os.replace(pending, path)
    fsync_dir(path.parent)


def install_keys(path: Path, keys: list[bytes]) -> None:
    """Puts exported keys in place on a fresh machine: the first is current."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_key_file(path, keys[0])
    if keys[1:]:
        retired = retired_dir(path)
        retired.mkdir(mode=0o700, exist_ok=True)
        for key in keys[1:]:
            write_key_file(retired / f"{key_id(key).hex()}.key", key)
