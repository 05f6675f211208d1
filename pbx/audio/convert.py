"""Uploaded IVR prompts (MP3 or WAV) to what Asterisk plays: 16-bit mono PCM WAV at
8 kHz (`<id>.wav`) and 16 kHz (`<id>.wav16`). A path in, two files out (in a working
directory the caller names, under temporary names, for the store to move into place).

Pipeline: size check; sniff the content; then three streaming passes:

1. decode (blocks of BLOCK_SAMPLES, downmixed to mono and resampled to 16 kHz as they
   arrive) into a raw float32 temporary file, while measuring what trimming and
   loudness need: per 10 ms window (at 16 kHz, what wideband callers hear) whether it
   is loud, the power summed over the loud windows, and the first and last sample
   above the silence level;
2. the kept (trimmed) range of that file: its 16 kHz peak, and 16 kHz -> 8 kHz into a
   second raw float32 temporary file, measuring the 8 kHz peak;
3. one gain for both, chosen from the peaks actually measured on both outputs (so no
   resampler overshoot can push them past the peak limit); both raw files scaled into
   16-bit WAV files.

Memory: a few blocks, whatever the file's length. Nothing holds the signal whole; the
decoded signal goes to disk once (64 KB per second at 16 kHz, plus 32 KB at 8 kHz), and
the source is decoded only once, since MP3 decoding is most of the cost.
"""
from __future__ import annotations

import math
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

from pbx.audio.sniff import mp3_complete, read_head, sniff_format, wav_data_fits

__all__ = ["AudioRejected", "Converted", "Limits", "NotAudio", "TooLarge", "convert", "sniff_format"]

WIDE_RATE = 16000
NARROW_RATE = 8000
RESAMPLE_QUALITY = "HQ"  # soxr 20-bit precision: beyond what 16-bit output can show
BLOCK_SAMPLES = 1 << 17  # per decoded block, all channels together (65536 stereo frames)
MIN_RATE, MAX_RATE = 4000, 384000  # source sample rates we accept

# Trimming: a 10 ms window is silent when its RMS is below SILENCE_DBFS. The kept range
# runs from the first to the last sample above that level (in the first and last loud
# windows), widened by TRIM_PAD_MS of the original audio each side so word onsets and
# decays are not clipped. Output duration = sounding part + 2 * TRIM_PAD_MS (at the
# file's ends, less if the sound starts or stops right there).
SILENCE_DBFS = -50.0
WINDOW_MS = 10
TRIM_PAD_MS = 20

# Loudness: RMS over the loud windows only (pauses do not count) is brought to
# TARGET_RMS_DBFS, unless the peak of either output would then pass PEAK_LIMIT_DBFS:
# the peak limit wins. Nothing is ever clipped or compressed.
TARGET_RMS_DBFS = -16.0
PEAK_LIMIT_DBFS = -1.0
MAX_SAMPLE = 1e4  # float WAV samples beyond +80 dBFS are corrupt data, not headroom

_LIBSNDFILE_FORMATS = {"wav": ("WAV", "WAVEX", "RF64"), "mp3": ("MP3",)}
_FULL_SCALE = 32768.0  # int16 <-> float, as soundfile reads it back
_FLOAT = np.dtype(np.float32)
_WINDOW = WIDE_RATE * WINDOW_MS // 1000  # samples per window at 16 kHz
_SILENCE = 10.0 ** (SILENCE_DBFS / 20.0)  # amplitude; a window is loud when power > _SILENCE ** 2


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_seconds: float = 600.0


class AudioRejected(Exception):
    """The upload cannot become a prompt; .reason says why, in words for the API."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotAudio(AudioRejected):
    """Not MP3 or WAV, corrupt, truncated, or without any sound."""


class TooLarge(AudioRejected):
    """Over Limits.max_bytes or Limits.max_seconds."""


@dataclass(frozen=True)
class Converted:
    source_format: str  # "mp3" | "wav", from the content
    duration_ms: int  # of the output, after trimming
    narrowband: Path  # complete 8 kHz 16-bit mono PCM WAV file in work_dir (temporary name)
    wideband: Path  # complete 16 kHz 16-bit mono PCM WAV file in work_dir (temporary name)


def convert(path: str | Path, work_dir: str | Path, limits: Limits = Limits()) -> Converted:
    """Converts path; the two outputs are left in work_dir for the caller to move or
    delete. On any exception, nothing convert created is left in work_dir."""
    path, work_dir = Path(path), Path(work_dir)
    if path.stat().st_size > limits.max_bytes:
        raise TooLarge(f"the file is larger than {limits.max_bytes} bytes")
    source_format = sniff_format(read_head(path))
    if source_format is None:
        raise NotAudio("the file is not MP3 or WAV audio")
    if source_format == "wav" and not wav_data_fits(path):
        raise NotAudio("the WAV file is truncated or corrupt (its data runs past the end)")
    if source_format == "mp3" and not mp3_complete(path):
        raise NotAudio("the MP3 file is truncated (its last frame runs past the end)")
    temporary: list[Path] = []
    outputs: list[Path] = []
    try:
        wide_raw = _new_file(work_dir, ".16k.f32", temporary)
        stats = _decode_to_wideband(path, source_format, limits, wide_raw)
        start, end = stats.kept_range()
        narrow_raw = _new_file(work_dir, ".8k.f32", temporary)
        wide_peak, narrow_peak, narrow_len = _narrow_and_peaks(wide_raw, start, end, narrow_raw)
        if narrow_len == 0:
            raise NotAudio("the audio contains no sound")
        gain = _gain(stats.loud_power(), peak=max(wide_peak, narrow_peak))
        narrowband = _new_file(work_dir, ".wav", outputs)
        wideband = _new_file(work_dir, ".wav16", outputs)
        _write_wav(narrow_raw, 0, narrow_len, narrowband, NARROW_RATE, gain)
        _write_wav(wide_raw, start, end, wideband, WIDE_RATE, gain)
    except BaseException:
        for output in outputs:
            output.unlink(missing_ok=True)
        raise
    finally:
        for raw in temporary:
            raw.unlink(missing_ok=True)
    return Converted(source_format=source_format, duration_ms=round((end - start) * 1000 / WIDE_RATE),
                     narrowband=narrowband, wideband=wideband)


def _new_file(work_dir: Path, suffix: str, created: list[Path]) -> Path:
    """An empty file with a fresh name in work_dir, recorded in created (for cleanup).
    Mode 0666 less the umask, like any file we write (mkstemp's 0600 would follow the
    outputs into the store)."""
    while True:
        path = work_dir / f".convert-{secrets.token_hex(8)}{suffix}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        created.append(path)
        return path


# --- pass 1: decode to 16 kHz, measuring ----------------------------------------------

class _Levels:
    """What trimming and loudness need from the 16 kHz signal, fed block by block.

    Windows are _WINDOW samples from the start of the signal (the last one may be
    shorter); samples short of a full window wait in _pending for the next block."""

    def __init__(self) -> None:
        self.length = 0  # samples seen
        self.loud_windows = 0
        self.loud_power_sum = 0.0  # sum of the loud windows' mean squares
        self.onset: int | None = None  # first sample above _SILENCE in the first loud window
        self.offset = 0  # one past the last sample above _SILENCE in the last loud window
        self.valid = True  # False once a sample is NaN, infinite or beyond MAX_SAMPLE
        self._pending = np.zeros(0, _FLOAT)

    def add(self, block: np.ndarray) -> None:
        if len(block) == 0:
            return
        # `not <=` so that NaN counts as invalid; remembered, not raised, so that a
        # file too long is still TooLarge whatever its samples.
        if not _peak(block) <= MAX_SAMPLE:
            self.valid = False
        self.length += len(block)
        x = np.concatenate([self._pending, block]) if len(self._pending) else block
        full = len(x) // _WINDOW * _WINDOW
        self._windows(x[:full], _WINDOW, self.length - len(x))
        self._pending = x[full:].copy()

    def finish(self) -> None:
        if len(self._pending):
            self._windows(self._pending, len(self._pending), self.length - len(self._pending))
            self._pending = np.zeros(0, _FLOAT)

    def _windows(self, x: np.ndarray, window: int, at: int) -> None:
        """Whole windows of `window` samples; x[0] is sample `at` of the signal."""
        if len(x) == 0:
            return
        frames = x.reshape(-1, window)
        power = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / window
        loud = np.flatnonzero(power > _SILENCE ** 2)
        if loud.size == 0:
            return
        self.loud_windows += int(loud.size)
        self.loud_power_sum += float(power[loud].sum())
        if self.onset is None:
            above = np.flatnonzero(np.abs(frames[loud[0]]) > _SILENCE)
            self.onset = at + int(loud[0]) * window + (int(above[0]) if above.size else 0)
        above = np.flatnonzero(np.abs(frames[loud[-1]]) > _SILENCE)
        self.offset = at + int(loud[-1]) * window + (int(above[-1]) + 1 if above.size else window)

    def kept_range(self) -> tuple[int, int]:
        """(start, end) of the kept samples: the sounding part plus the pads."""
        if self.onset is None:
            raise NotAudio("the audio contains no sound")
        pad = WIDE_RATE * TRIM_PAD_MS // 1000
        start = max(0, self.onset - pad) & ~1  # even: 8 kHz samples then fall on 16 kHz ones
        return start, min(self.length, self.offset + pad)

    def loud_power(self) -> float:
        """Mean power of the loud windows."""
        return self.loud_power_sum / self.loud_windows


def _decode_to_wideband(path: Path, source_format: str, limits: Limits, raw: Path) -> _Levels:
    """The whole file as 16 kHz mono float32 into raw, decoded block by block."""
    try:
        with sf.SoundFile(path) as source, open(raw, "wb") as sink:
            _check_stream(source, source_format, limits)
            levels = _stream_to_wideband(source, limits, sink)
    except sf.SoundFileError as exc:  # libsndfile cannot open or decode it
        raise NotAudio("the audio cannot be decoded (corrupt or truncated)") from exc
    if not levels.valid:
        raise NotAudio("the audio contains invalid samples")
    return levels


def _check_stream(source: sf.SoundFile, source_format: str, limits: Limits) -> None:
    # libsndfile detects the container on its own and must agree with our sniffing,
    # which can see no further than the first frames (or only an ID3 tag).
    if source.format not in _LIBSNDFILE_FORMATS[source_format] or (
            source_format == "mp3" and source.subtype != "MPEG_LAYER_III"):
        raise NotAudio(f"the file is not MP3 or WAV audio ({source.format} {source.subtype})")
    if not MIN_RATE <= source.samplerate <= MAX_RATE:
        raise NotAudio(f"unsupported sample rate {source.samplerate} Hz")
    # A WAV's length is exact (its data chunk was checked against the file size); an
    # MP3's is only libsndfile's estimate (off by 2x for VBR files without a Xing
    # header), so MP3s are held to the limit while decoding, not here.
    if source_format == "wav" and source.frames > limits.max_seconds * source.samplerate:
        raise TooLarge(f"the audio is longer than {limits.max_seconds:g} seconds")


def _stream_to_wideband(source: sf.SoundFile, limits: Limits, sink: BinaryIO) -> _Levels:
    block = np.empty((max(1024, BLOCK_SAMPLES // source.channels), source.channels), np.float32)
    resampler = soxr.ResampleStream(source.samplerate, WIDE_RATE, 1, dtype="float32",
                                    quality=RESAMPLE_QUALITY)
    max_frames = limits.max_seconds * source.samplerate
    levels, frames = _Levels(), 0

    def keep(wide: np.ndarray) -> None:
        sink.write(wide.data)
        levels.add(wide)

    while len(got := source.read(out=block)):
        frames += len(got)
        if frames > max_frames:  # counted, so a header that lies cannot get past it
            raise TooLarge(f"the audio is longer than {limits.max_seconds:g} seconds")
        keep(resampler.resample_chunk(_downmix(got)))
    keep(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    levels.finish()
    return levels


def _downmix(block: np.ndarray) -> np.ndarray:
    """Mean of the channels. Column by column: ndarray.mean(axis=1) is ~20x slower."""
    mono = block[:, 0].copy()
    for channel in range(1, block.shape[1]):
        mono += block[:, channel]
    if block.shape[1] > 1:
        mono *= np.float32(1.0 / block.shape[1])
    return mono


# --- pass 2: the kept range, its peak, and 8 kHz --------------------------------------

def _read_blocks(raw: Path, start: int, end: int) -> Iterator[np.ndarray]:
    """Samples [start, end) of a raw float32 file, in blocks of up to BLOCK_SAMPLES
    (one buffer, reused: a block is valid until the next one is asked for)."""
    buffer = np.empty(min(BLOCK_SAMPLES, max(0, end - start)), _FLOAT)
    with open(raw, "rb", buffering=0) as source:
        source.seek(start * _FLOAT.itemsize)
        while start < end:
            block = buffer[:min(len(buffer), end - start)]
            got = source.readinto(block.data.cast("B")) // _FLOAT.itemsize
            if got == 0:
                raise OSError(f"{raw} is shorter than expected")
            start += got
            yield block[:got]


def _narrow_and_peaks(wide_raw: Path, start: int, end: int, narrow_raw: Path) -> tuple[float, float, int]:
    """(16 kHz peak of the kept range, 8 kHz peak, 8 kHz length), writing the 8 kHz
    signal into narrow_raw: exactly what pass 3 scales, so the peak is the output's."""
    resampler = soxr.ResampleStream(WIDE_RATE, NARROW_RATE, 1, dtype="float32", quality=RESAMPLE_QUALITY)
    wide_peak = narrow_peak = 0.0
    narrow_len = 0
    with open(narrow_raw, "wb") as sink:
        def keep(narrow: np.ndarray) -> None:
            nonlocal narrow_peak, narrow_len
            narrow_peak = max(narrow_peak, _peak(narrow))
            narrow_len += len(narrow)
            sink.write(narrow.data)

        for block in _read_blocks(wide_raw, start, end):
            wide_peak = max(wide_peak, _peak(block))
            keep(resampler.resample_chunk(block))
        keep(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    return wide_peak, narrow_peak, narrow_len


def _gain(power: float, peak: float) -> float:
    to_target = 10.0 ** (TARGET_RMS_DBFS / 20.0) / math.sqrt(power)
    # One int16 step below the limit, so rounding to int16 cannot cross it.
    ceiling = 10.0 ** (PEAK_LIMIT_DBFS / 20.0) - 1.0 / _FULL_SCALE
    return min(to_target, ceiling / peak)


# --- pass 3: 16-bit WAV files ----------------------------------------------------------

def _write_wav(raw: Path, start: int, end: int, target: Path, rate: int, gain: float) -> None:
    """Samples [start, end) of raw, times gain, as a 16-bit mono WAV file at target."""
    scale = np.float32(gain * _FULL_SCALE)
    pcm = np.empty(BLOCK_SAMPLES, _FLOAT)
    # Through a Python file object, not the path: libsndfile would fsync a file it opened
    # itself when closing it, and the store fsyncs the output anyway before renaming it.
    with open(target, "wb") as sink, sf.SoundFile(sink, "w", rate, 1, subtype="PCM_16", format="WAV") as wav:
        for block in _read_blocks(raw, start, end):
            scaled = np.multiply(block, scale, out=pcm[:len(block)])
            np.rint(scaled, out=scaled)
            np.clip(scaled, -_FULL_SCALE, _FULL_SCALE - 1, out=scaled)  # a guard: the gain keeps it in range
            wav.write(scaled.astype(np.int16))


def _peak(x: np.ndarray) -> float:
    """Largest magnitude (NaN if any sample is NaN), without an abs() copy of x."""
    return max(float(x.max()), -float(x.min())) if len(x) else 0.0
