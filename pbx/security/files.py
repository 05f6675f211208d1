"""Files only the service can read: the database holds `ps_auths.md5_cred` (enough to
REGISTER as the extension), the generated Asterisk configuration holds the AMI and FastAGI
secrets, and recordings and prompts are the customers' own."""
from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077  # what the control plane and the Asterisk it starts create: 0600 / 0700


def lock_down(*roots: Path) -> None:
    """Makes each existing root and everything under it owner-only (folders 0700, files
    0600), for data written before this was the rule. Symlinks are neither followed nor changed."""
    for root in roots:
        if not root.is_dir() or root.is_symlink():
            continue
        root.chmod(0o700)
        for folder, dirs, files in os.walk(root):
            for name in dirs:
                _private(Path(folder, name), 0o700)
            for name in files:
                _private(Path(folder, name), 0o600)


def _private(path: Path, mode: int) -> None:
    info = path.lstat()
    if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
        if stat.S_IMODE(info.st_mode) & 0o077:
            path.chmod(stat.S_IMODE(info.st_mode) & ~0o077 | (mode & 0o700))
