"""Data keys wrapped by the master key, and master key rotation (files only)."""
from __future__ import annotations

import io
import os

import pytest

from pbx.recordings.crypto import MAGIC_V2, Cipher, Corrupt
from pbx.recordings.keys import (KeyMissing, Keyring, key_id, new_data_key, next_path, retired_dir, rotate_files,
                                 write_key_file)


@pytest.fixture
def key_path(tmp_path):
    path = tmp_path / "recording.key"
    write_key_file(path, os.urandom(32))
    return path


def test_a_wrapped_data_key_unwraps_only_with_its_master(key_path, tmp_path):
    ring = Keyring(key_path)
    data_key = new_data_key()
    wrapped = ring.wrap(data_key)
    assert wrapped[:8] == ring.current_id and len(wrapped) == 48 and data_key not in wrapped
    assert ring.unwrap(wrapped) == data_key
    other = tmp_path / "other.key"
    write_key_file(other, os.urandom(32))
    with pytest.raises(KeyMissing):
        Keyring(other).unwrap(wrapped)
    tampered = bytearray(wrapped)
    tampered[20] ^= 1
    with pytest.raises(KeyMissing):
        ring.unwrap(bytes(tampered))


def test_a_file_sealed_with_a_data_key_opens_with_that_key_only():
    data_key = new_data_key()
    sealed = io.BytesIO()
    Cipher(data_key, MAGIC_V2).encrypt(io.BytesIO(b"audio" * 1000), sealed)
    assert sealed.getvalue()[:8] == MAGIC_V2 and sealed.getvalue()[8:16] == key_id(data_key)
    assert b"".join(Cipher(data_key, MAGIC_V2).decrypt(io.BytesIO(sealed.getvalue()))) == b"audio" * 1000
    with pytest.raises(Corrupt):
        b"".join(Cipher(new_data_key(), MAGIC_V2).decrypt(io.BytesIO(sealed.getvalue())))


def test_rotation_retires_the_old_key_and_rewraps_without_changing_the_data_key(key_path):
    ring = Keyring(key_path)
    old_id, data_key = ring.current_id, new_data_key()
    wrapped = ring.wrap(data_key)
    rotate_files(key_path)
    assert (retired_dir(key_path) / f"{old_id.hex()}.key").stat().st_mode & 0o777 == 0o600
    assert ring.unwrap(wrapped) == data_key  # a miss re-reads the files: the old id is retired, not gone
    rewrapped = ring.rewrap(wrapped)
    assert ring.current_id != old_id  # the replaced key file was noticed
    assert rewrapped[:8] == ring.current_id and ring.unwrap(rewrapped) == data_key
    assert ring.rewrap(rewrapped) == rewrapped
    assert ring.wrap(data_key)[:8] == ring.current_id


def test_rotation_interrupted_after_any_step_finishes_on_the_next_run(key_path):
    old = key_path.read_bytes()
    write_key_file(next_path(key_path), os.urandom(32))  # crashed after making the next key
    pending = next_path(key_path).read_bytes()
    rotate_files(key_path)
    assert key_path.read_bytes() == pending and not next_path(key_path).exists()
    assert {key_id(old), key_id(pending)} <= Keyring(key_path).known_ids()
    # Crashed after retiring the old key, before the rename: the same again, nothing lost.
    write_key_file(next_path(key_path), os.urandom(32))
    third = next_path(key_path).read_bytes()
    write_key_file(retired_dir(key_path) / f"{key_id(pending).hex()}.key", pending)
    rotate_files(key_path)
    assert Keyring(key_path).current == third
    assert {key_id(old), key_id(pending), key_id(third)} == Keyring(key_path).known_ids()
