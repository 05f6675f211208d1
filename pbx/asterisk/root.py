"""The Debian Asterisk 22 root folder that machines without a container engine run.

Built once with debootstrap, cached outside the repo, never written to afterwards:
each running instance binds its own configuration and state into it (see runner).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en", "asterisk-core-sounds-en-wav")
SUITE = "sid"  # the only Debian suite with the 22 LTS package
READY_MARK = ".pbx-root-ready"
# Mount points that every instance binds its own folders onto.
MOUNT_POINTS = ("srv/pbx/instance", "srv/pbx/data", "srv/pbx/dialplans", "srv/pbx/audio")


def is_ready(root: Path) -> bool:
    return (root / READY_MARK).read_text().strip() == _fingerprint() if (root / READY_MARK).exists() else False


def _fingerprint() -> str:
    return f"{SUITE} {' '.join(PACKAGES)} {' '.join(MOUNT_POINTS)}"


def root_path(cache: Path) -> Path:
    """One folder per package set: a changed set builds anew beside the old root,
    never under an Asterisk that is running from it."""
    return cache / hashlib.sha256(_fingerprint().encode()).hexdigest()[:12]


def ensure_root(cache: Path) -> Path:
    """The ready root under `cache`, built if missing; safe to call on every start,
    and from several processes at once (one builds, the others wait for it)."""
    root = root_path(cache)
    if is_ready(root):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.with_name(root.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_ready(root):
            _build(root)
    return root


def _build(root: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (Debian package 'debootstrap')")
    staging = root.with_name(root.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    log.info("building the Asterisk root in %s (about a minute)", root)
    # No mirror argument: debootstrap's default mirror is the reachable one.
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(staging)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _prepare(staging)
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)


def _prepare(root: Path) -> None:
    for point in MOUNT_POINTS:
        (root / point).mkdir(parents=True, exist_ok=True)
    (root / READY_MARK).write_text(_fingerprint())


