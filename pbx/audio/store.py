"""Converted prompts on disk: ivr_audio/<tenant id>/<file id>.{wav,wav16}.

Stored atomically (the converter's complete output file, fsynced, renamed into place
from incoming_dir() on the same file system), so a reader or Asterisk never sees half
a file; the names are ours (numbers and random ids), never user text.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from pbx.durable import fsync_dir, fsync_path

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

    def save(self, tenant_id: int, file_id: str, narrowband: Path, wideband: Path) -> None:
        """Moves two complete WAV files (in incoming_dir(), or elsewhere on the same file
        system) into place as the prompt's .wav and .wav16. The sources are gone
        afterwards, whether it succeeded or not; on failure so is whatever was placed."""
        try:
            self.tenant_dir(tenant_id).mkdir(parents=True, exist_ok=True)
            _move_atomically(Path(narrowband), self.path(tenant_id, file_id, NARROWBAND))
            _move_atomically(Path(wideband), self.path(tenant_id, file_id, WIDEBAND))
            fsync_dir(self.tenant_dir(tenant_id))  # the renames themselves survive a crash
        except BaseException:
            self.remove(tenant_id, file_id)
            raise
        finally:
            Path(narrowband).unlink(missing_ok=True)
            Path(wideband).unlink(missing_ok=True)

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


def _move_atomically(source: Path, path: Path) -> None:
    """source's data on disk first, then one rename: path is absent or complete."""
    fsync_path(source)
    os.replace(source, path)

