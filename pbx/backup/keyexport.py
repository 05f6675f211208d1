"""The recording master keys, exported apart from the backups on purpose: a
backup alone opens no recording, and the key alone holds none."""
from __future__ import annotations

import json
import os
from pathlib import Path

from pbx.recordings.keys import KEY_BYTES, Keyring

FORMAT = "pbx-recording-keys-1"


def export_keys(key_path: Path, out: Path) -> int:
    """Writes every key (current first) to out, 0600, refusing to overwrite; returns how many."""
    keys = Keyring(key_path).all_keys()
    body = json.dumps({"format": FORMAT, "keys": [k.hex() for k in keys]}).encode()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(keys)


def read_export(path: Path) -> list[bytes]:
    try:
        data = json.loads(path.read_text())
        keys = [bytes.fromhex(k) for k in data["keys"]] if data.get("format") == FORMAT else []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a recording key export ({exc})") from exc
    if not keys or any(len(k) != KEY_BYTES for k in keys):
        raise ValueError(f"{path}: not a recording key export")
    return keys
