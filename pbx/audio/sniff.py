"""What an upload is, judged from its bytes alone (never its name or content type).

Only MP3 and WAV are accepted. WAV: a RIFF or RF64 header with the WAVE form type.
MP3: optional ID3v2 tags, then an MPEG layer III frame header whose successor (when
it is in view) is another frame of the same stream. Checking two frames keeps random
bytes that happen to start with 0xFFE from being taken for audio.
"""
from __future__ import annotations

import os
from pathlib import Path

HEAD_BYTES = 4096  # longer than the largest layer III frame (1441 bytes), so two fit
MAX_WAV_CHUNKS = 64  # real WAVs have a handful before "data"; bounds a hostile chunk list

_WAV_MAGIC = (b"RIFF", b"RF64")
# Layer III bitrates (kbit/s) by index: MPEG-1, then MPEG-2 and 2.5.
_KBPS_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates by version bits (3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5; 1 is reserved).
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def sniff_format(head: bytes) -> str | None:
    """"wav", "mp3" or None from the first bytes of a file (read_head gives enough)."""
    if len(head) >= 12 and head[:4] in _WAV_MAGIC and head[8:12] == b"WAVE":
        return "wav"
    pos = _id3_end(head)
    if pos:
        while pos < len(head) and head[pos] == 0:  # some taggers pad outside the tag
            pos += 1
        if pos >= len(head):
            return "mp3"  # only the tag is in view; the decoder judges what follows
    return "mp3" if _mpeg_stream_at(head, pos) else None


def read_head(path: str | Path) -> bytes:
    """The file's first bytes: HEAD_BYTES, or all of a leading ID3 tag plus HEAD_BYTES,
    so that sniff_format sees the first MPEG frames behind cover art."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        tag_end = _id3_end(head[:10])
        if tag_end + HEAD_BYTES > len(head):
            fh.seek(0)
            head = fh.read(tag_end + HEAD_BYTES)  # the caller has bounded the file size
    return head


def wav_data_fits(path: str | Path) -> bool:
    """True when the WAV's data chunk lies wholly inside the file.

    libsndfile quietly plays whatever is there when the header claims more; we call
    such a file truncated or corrupt instead (a cut-off upload should be re-sent)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        riff = fh.read(12)[:4]
        pos, ds64_data = 12, None
        for _ in range(MAX_WAV_CHUNKS):
            fh.seek(pos)
            header = fh.read(8)
            if len(header) < 8:
                return False  # no data chunk at all
            chunk, length = header[:4], int.from_bytes(header[4:], "little")
            if chunk == b"ds64":  # RF64: riff size, data size (64-bit each), ...
                ds64_data = int.from_bytes(fh.read(16)[8:16], "little")
            elif chunk == b"data":
                if riff == b"RF64" and length == 0xFFFFFFFF:
                    if ds64_data is None:
                        return False
                    length = ds64_data
                return pos + 8 + length <= size
            pos += 8 + length + (length & 1)  # chunks are word aligned
    return False


def mp3_complete(path: str | Path) -> bool:
    """False when the MP3 was cut off. The decoder plays whatever frames are there, so
    like a WAV whose data runs past the end, a cut-off upload is refused: the stream's
    last frame must end inside the file, and the file must hold at least the bytes
    its Xing/Info (LAME) or VBRI header counts."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        pos = _id3_end(read_head(path))
        fh.seek(pos)
        while fh.read(1) == b"\0":  # padding after the tag, as sniff_format allows
            pos += 1
        first = _frame_at(fh, pos, 4096)
        declared = _declared_bytes(first) if first else None
        if declared is not None and size < declared:
            return False
        return _last_frame_fits(fh, pos, size)


def _frame_at(fh, pos: int, length: int) -> bytes:
    fh.seek(pos)
    return fh.read(length)


def _declared_bytes(frame: bytes) -> int | None:
    """The stream length the encoder wrote into the first frame, if it did."""
    for tag in (b"Xing", b"Info"):
        at = frame.find(tag, 4, 64)
        if at >= 0:
            flags = int.from_bytes(frame[at + 4:at + 8], "big")
            if flags & 2:  # bytes field present, after the frames field when that is present
                field = at + 8 + (4 if flags & 1 else 0)
                return int.from_bytes(frame[field:field + 4], "big") or None
            return None
    if frame[36:40] == b"VBRI":
        return int.from_bytes(frame[46:50], "big") or None
    return None


def _last_frame_fits(fh, pos: int, size: int) -> bool:
    """Walks the frames; trailing tags (ID3v1, APE) end the walk, a frame that runs
    past the end of the file (or a header cut in two) means the file was cut."""
    while pos < size:
        frame = _layer3_frame(_frame_at(fh, pos, 4), 0)
        if frame is None:
            return size - pos >= 4
        if pos + frame[0] > size:
            return False
        pos += frame[0]
    return True


def _id3_end(buf: bytes) -> int:
    """Offset just past the ID3v2 tags at the start of buf (0 if none); may exceed len(buf)."""
    pos = 0
    while len(buf) >= pos + 10 and buf[pos:pos + 3] == b"ID3":
        header = buf[pos:pos + 10]
        if header[3] not in (2, 3, 4) or any(b & 0x80 for b in header[6:10]):
            break  # not a valid tag header (the size is "syncsafe": 7 bits a byte)
        size = header[6] << 21 | header[7] << 14 | header[8] << 7 | header[9]
        footer = 10 if header[5] & 0x10 else 0
        pos += 10 + size + footer
    return pos


def _layer3_frame(buf: bytes, pos: int) -> tuple[int, tuple[int, int]] | None:
    """(frame length, stream identity) of a valid MPEG layer III frame header at pos."""
    h = buf[pos:pos + 4]
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return None
    version, layer = h[1] >> 3 & 3, h[1] >> 1 & 3
    bitrate_index, rate_index = h[2] >> 4, h[2] >> 2 & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, another layer, or "free format" (not supported)
    kbps = (_KBPS_V1 if version == 3 else _KBPS_V2)[bitrate_index]
    rate = _RATES[version][rate_index]
    bytes_per_bps = 144 if version == 3 else 72  # samples per frame (1152 or 576) / 8 bits
    return bytes_per_bps * kbps * 1000 // rate + (h[2] >> 1 & 1), (version, rate_index)


def _mpeg_stream_at(buf: bytes, pos: int) -> bool:
    first = _layer3_frame(buf, pos)
    if first is None:
        return False
    following = pos + first[0]
    if following + 4 > len(buf):
        return True  # a one-frame file, or not enough in view: the decoder decides
    second = _layer3_frame(buf, following)
    return second is not None and second[1] == first[1]
