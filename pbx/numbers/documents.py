"""A porting request's document (the subscriber's signed request, or an ID copy): PDF,
JPEG or PNG recognised by its content, never its name or declared type; at most
MAX_BYTES; stored 0600 under <data dir>/porting/<tenant>/<request>.<ext>, written to a
temporary file and renamed, so a crash leaves a whole file or none."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pbx.domain.errors import UnsupportedMedia

MAX_BYTES = 5 * 1024 * 1024
KINDS = ((b"%PDF-", "application/pdf", "pdf"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
         (b"\x89PNG\r\n\x1a\n", "image/png", "png"))


def sniff(head: bytes) -> tuple[str, str]:
    for magic, media, ext in KINDS:
        if head.startswith(magic):
            return media, ext
    raise UnsupportedMedia("the document must be a PDF, JPEG or PNG file")


def keep(upload: Path, folder: Path, tenant_id: int, request_id: int) -> tuple[str, str, int]:
    """Moves the spooled upload into place: (media type, SHA-256, size)."""
    with open(upload, "rb") as handle:
        media, ext = sniff(handle.read(16))
    data = upload.read_bytes()
    target_dir = folder / str(int(tenant_id))
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = target_dir / f"{int(request_id)}.{ext}"
    temporary = target.with_suffix(".part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
    return media, hashlib.sha256(data).hexdigest(), len(data)
