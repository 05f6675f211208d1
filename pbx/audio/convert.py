"""Uploaded IVR prompts (MP3 or WAV) to what Asterisk plays: 16-bit mono PCM WAV at
8 kHz (`<id>.wav`) and 16 kHz (`<id>.wav16`). Pure: a path in, bytes out.

Pipeline: size check; sniff the content; one streaming decode (blocks of
BLOCK_SAMPLES, downmixed to mono and resampled to 16 kHz as they arrive); trim
silence and measure loudness on that 16 kHz signal (what wideband callers hear);
16 kHz -> 8 kHz; one gain for both, chosen from the peaks actually measured on both
outputs, so no resampler overshoot can push them past the peak limit; 16-bit WAV.

Memory: the source is never held whole. What is kept is the 16 kHz mono float32
signal (64 KB per second, 38 MB at 600 s), the same order as the WAV bytes we must
return anyway. Decoding once rather than twice (a two-pass design) matters because
MP3 decoding is most of the cost.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from pbx.audio.sniff import read_head, sniff_format, wav_data_fits

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
    narrowband: bytes  # 8 kHz 16-bit mono PCM WAV file
    wideband: bytes  # 16 kHz 16-bit mono PCM WAV file


def convert(path: str | Path, limits: Limits = Limits()) -> Converted:
    path = Path(path)
    if path.stat().st_size > limits.max_bytes:
        raise TooLarge(f"the file is larger than {limits.max_bytes} bytes")
    source_format = sniff_format(read_head(path))
    if source_format is None:
        raise NotAudio("the file is not MP3 or WAV audio")
    if source_format == "wav" and not wav_data_fits(path):
        raise NotAudio("the WAV file is truncated or corrupt (its data runs past the end)")
    wide = _decode_to_wideband(path, source_format, limits)
    start, end, power = _sounding_range(wide)
    wide = wide[start:end]
    narrow = soxr.resample(wide, WIDE_RATE, NARROW_RATE, quality=RESAMPLE_QUALITY)
    if len(narrow) == 0:
        raise NotAudio("the audio contains no sound")
    gain = _gain(power, peak=max(_peak(wide), _peak(narrow)))
    return Converted(
        source_format=source_format,
        duration_ms=round(len(wide) * 1000 / WIDE_RATE),
        narrowband=_wav_bytes(narrow, NARROW_RATE, gain),
        wideband=_wav_bytes(wide, WIDE_RATE, gain),
    )


def _decode_to_wideband(path: Path, source_format: str, limits: Limits) -> np.ndarray:
    """The whole file as 16 kHz mono float32, decoded block by block."""
    try:
        with sf.SoundFile(path) as source:
            _check_stream(source, source_format, limits)
            wide = _stream_to_wideband(source, limits)
    except sf.SoundFileError as exc:  # libsndfile cannot open or decode it
        raise NotAudio("the audio cannot be decoded (corrupt or truncated)") from exc
    if not math.isfinite(peak := _peak(wide)) or peak > MAX_SAMPLE:
        raise NotAudio("the audio contains invalid samples")
    return wide


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


def _stream_to_wideband(source: sf.SoundFile, limits: Limits) -> np.ndarray:
    block = np.empty((max(1024, BLOCK_SAMPLES // source.channels), source.channels), np.float32)
    resampler = soxr.ResampleStream(source.samplerate, WIDE_RATE, 1, dtype="float32",
                                    quality=RESAMPLE_QUALITY)
    max_frames = limits.max_seconds * source.samplerate
    pieces, frames = [], 0
    while len(got := source.read(out=block)):
        frames += len(got)
        if frames > max_frames:  # counted, so a header that lies cannot get past it
            raise TooLarge(f"the audio is longer than {limits.max_seconds:g} seconds")
        pieces.append(resampler.resample_chunk(_downmix(got)))
    pieces.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    return np.concatenate(pieces)  # briefly twice 64 KB a second: still far below the source


def _downmix(block: np.ndarray) -> np.ndarray:
    """Mean of the channels. Column by column: ndarray.mean(axis=1) is ~20x slower."""
    mono = block[:, 0].copy()
    for channel in range(1, block.shape[1]):
        mono += block[:, channel]
    if block.shape[1] > 1:
        mono *= np.float32(1.0 / block.shape[1])
    return mono


def _sounding_range(wide: np.ndarray) -> tuple[int, int, float]:
    """(start, end) of the kept samples and the mean power of the loud windows."""
    window = WIDE_RATE * WINDOW_MS // 1000
    power = _window_power(wide, window)
    loud = np.flatnonzero(power > _db_to_amplitude(SILENCE_DBFS) ** 2)
    if loud.size == 0:
        raise NotAudio("the audio contains no sound")
    first, last = loud[0] * window, loud[-1] * window
    above = np.flatnonzero(np.abs(wide[first:first + window]) > _db_to_amplitude(SILENCE_DBFS))
    onset = first + (above[0] if above.size else 0)
    above = np.flatnonzero(np.abs(wide[last:last + window]) > _db_to_amplitude(SILENCE_DBFS))
    offset = last + (above[-1] + 1 if above.size else window)
    pad = WIDE_RATE * TRIM_PAD_MS // 1000
    start = max(0, onset - pad) & ~1  # even: 8 kHz samples then fall on 16 kHz ones
    return start, min(len(wide), offset + pad), float(power[loud].mean())


def _window_power(x: np.ndarray, window: int) -> np.ndarray:
    """Mean square of each window of x (the last one may be shorter)."""
    full = len(x) // window
    frames = x[:full * window].reshape(full, window)
    power = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / window
    tail = x[full * window:]
    if len(tail):
        power = np.append(power, float(np.dot(tail, tail)) / len(tail))
    return power


def _gain(power: float, peak: float) -> float:
    to_target = _db_to_amplitude(TARGET_RMS_DBFS) / math.sqrt(power)
    # One int16 step below the limit, so rounding to int16 cannot cross it.
    ceiling = _db_to_amplitude(PEAK_LIMIT_DBFS) - 1.0 / _FULL_SCALE
    return min(to_target, ceiling / peak)


def _wav_bytes(x: np.ndarray, rate: int, gain: float) -> bytes:
    """x * gain as a 16-bit WAV file, converted block by block (no full-length copies)."""
    scale = np.float32(gain * _FULL_SCALE)
    out = io.BytesIO()
    with sf.SoundFile(out, "w", rate, 1, subtype="PCM_16", format="WAV") as wav:
        for at in range(0, len(x), BLOCK_SAMPLES):
            pcm = x[at:at + BLOCK_SAMPLES] * scale
            np.rint(pcm, out=pcm)
            np.clip(pcm, -_FULL_SCALE, _FULL_SCALE - 1, out=pcm)  # a guard: the gain keeps it in range
            wav.write(pcm.astype(np.int16))
    return out.getvalue()  # hands over BytesIO's buffer, no copy


def _peak(x: np.ndarray) -> float:
    """Largest magnitude (NaN if any sample is NaN), without an abs() copy of x."""
    return max(float(x.max()), -float(x.min())) if len(x) else 0.0


def _db_to_amplitude(db: float) -> float:
    return 10.0 ** (db / 20.0)
