"""WAV header repair. Asterisk writes the RIFF and data sizes when it closes the
file; one killed mid-call leaves them at their opening values (often 0), and a
player then sees no audio. The sizes follow from the file size alone."""
from __future__ import annotations

import os
import struct

HEADER_BYTES = 44  # what format_wav writes: RIFF, a 16-byte fmt chunk, data
_MAX_RIFF = 0xFFFFFFFF


def expected_sizes(file_size: int) -> tuple[int, int]:
    """(RIFF chunk size, data chunk size) for a canonical 44-byte-header WAV."""
    data = max(0, file_size - HEADER_BYTES)
    data -= data % 2  # 16-bit samples: a torn last sample is not audio
    return min(_MAX_RIFF, 36 + data), min(_MAX_RIFF, data)


def is_canonical(header: bytes) -> bool:
    return (len(header) >= HEADER_BYTES and header[0:4] == b"RIFF" and header[8:16] == b"WAVEfmt "
            and struct.unpack_from("<I", header, 16)[0] == 16 and header[36:40] == b"data")


def repair(path: str) -> bool:
    """Rewrites the two sizes if they disagree with the file; True if it changed.
    A file we cannot read as a canonical WAV is left alone (False)."""
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    try:
        header = os.pread(fd, HEADER_BYTES, 0)
        if not is_canonical(header):
            return False
        riff, data = expected_sizes(os.fstat(fd).st_size)
        if struct.unpack_from("<I", header, 4)[0] == riff and struct.unpack_from("<I", header, 40)[0] == data:
            return False
        os.pwrite(fd, struct.pack("<I", riff), 4)
        os.pwrite(fd, struct.pack("<I", data), 40)
        os.fsync(fd)
        return True
    finally:
        os.close(fd)


def duration_s(header: bytes, data_bytes: int) -> int:
    """Whole seconds of audio, from the fmt chunk's byte rate."""
    if not is_canonical(header):
        return 0
    byte_rate = struct.unpack_from("<I", header, 28)[0]
    return round(data_bytes / byte_rate) if byte_rate else 0
