"""A backup's manifest: every file it holds with its size and SHA-256, written
last, so a backup without one is incomplete; verify() finds a file that is
missing, changed, truncated or added since."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

NAME = "manifest.json"
FORMAT = 1
_READ = 1 << 20


def sha256_of(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(_READ):
            sha.update(block)
    return sha.hexdigest()


def copy_file(source: Path, target: Path) -> dict:
    """Copies, hashing on the way and fsyncing the copy; returns its manifest entry."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sha, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as out:
        while block := src.read(_READ):
            sha.update(block)
            size += len(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    shutil.copystat(source, target)
    return {"size": size, "sha256": sha.hexdigest()}


def entry(path: Path) -> dict:
    return {"size": path.stat().st_size, "sha256": sha256_of(path)}


def write(folder: Path, manifest: dict) -> None:
    path = folder / NAME
    with open(path, "w") as out:
        json.dump({"format": FORMAT, **manifest}, out, indent=1, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())


def read(folder: Path) -> dict:
    try:
        return json.loads((folder / NAME).read_text())
    except (FileNotFoundError, ValueError) as exc:
        raise ValueError(f"{folder}: no readable {NAME} (an incomplete backup?)") from exc


def verify(folder: Path) -> list[str]:
    """Problems found (empty: every file is there, as written, and nothing else)."""
    manifest = read(folder)
    files = manifest.get("files", {})
    problems = []
    for name, expected in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
            problems.append(f"changed: {name}")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != NAME and name not in files:
            problems.append(f"not in the manifest: {name}")
    return problems
