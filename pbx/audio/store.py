"""Converted prompts on disk: ivr_audio/<tenant id>/<file id>.{wav,wav16}.

Written atomically (temporary file, fsync, rename), so a reader or Asterisk
never sees half a file; the names are ours (numbers and random ids), never user text.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

NARROWBAND = ".wav"  # 8 kHz: what Asterisk plays on narrowband calls
WIDEBAND = ".wav16"  # 16 kHz: picked by Asterisk for wideband (G.722) calls


def new_file_id() -> str:
    return secrets.token_hex(12)


class PromptStore:
    def __init__(self, root: Path):
        self.root = root

    def tenant_dir(self, tenant_id: int) -> Path:
        return self.root / str(int(tenant_id))

    def path(self, tenant_id: int, file_id: str, suffix: str = NARROWBAND) -> Path:
        if not file_id.isalnum():
            raise ValueError("bad file id")
        return self.tenant_dir(tenant_id) / f"{file_id}{suffix}"

    def save(self, tenant_id: int, file_id: str, narrowband: bytes, wideband: bytes) -> None:
        self.tenant_dir(tenant_id).mkdir(parents=True, exist_ok=True)
        try:
            _write_atomically(self.path(tenant_id, file_id, NARROWBAND), narrowband)
            _write_atomically(self.path(tenant_id, file_id, WIDEBAND), wideband)
        except BaseException:
            self.remove(tenant_id, file_id)
            raise

    def remove(self, tenant_id: int, file_id: str) -> None:
        for suffix in (NARROWBAND, WIDEBAND):
            self.path(tenant_id, file_id, suffix).unlink(missing_ok=True)

    def remove_tenant(self, tenant_id: int) -> None:
        shutil.rmtree(self.tenant_dir(tenant_id), ignore_errors=True)

    def incoming_dir(self) -> Path:
        """Uploads land here first, on the same file system as their final place."""
        path = self.root / ".incoming"
        path.mkdir(parents=True, exist_ok=True)
        return path


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
