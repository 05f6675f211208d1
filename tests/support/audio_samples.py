"""Sample uploads for the prompt converter tests: tones as people really upload them
(any rate, mono or stereo, 8 to 32-bit or float WAV, CBR or VBR MP3 with an ID3 tag),
and files that only pretend to be audio. Every generator writes into a given path."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(freq: float = 1000.0, seconds: float = 2.0, rate: int = 44100, channels: int = 2,
         amplitude: float = 0.5, lead_silence: float = 0.5, tail_silence: float = 0.5) -> np.ndarray:
    """(frames, channels) float64: digital silence, a sine in every channel, silence."""
    t = np.arange(round(seconds * rate)) / rate
    sound = amplitude * np.sin(2 * np.pi * freq * t)
    mono = np.concatenate([np.zeros(round(lead_silence * rate)), sound, np.zeros(round(tail_silence * rate))])
    return np.repeat(mono[:, None], channels, axis=1)


def tone_wav(path: Path, freq: float = 1000.0, seconds: float = 2.0, rate: int = 44100, channels: int = 2,
             subtype: str = "PCM_16", lead_silence: float = 0.5, tail_silence: float = 0.5,
             amplitude: float = 0.5, format: str = "WAV") -> Path:
    data = tone(freq, seconds, rate, channels, amplitude, lead_silence, tail_silence)
    sf.write(path, data, rate, subtype=subtype, format=format)
    return Path(path)


def tone_mp3(path: Path, freq: float = 1000.0, seconds: float = 2.0, rate: int = 44100, channels: int = 2,
             vbr: bool = False, id3: bool = True, lead_silence: float = 0.5, tail_silence: float = 0.5,
             amplitude: float = 0.5) -> Path:
    return write_mp3(path, tone(freq, seconds, rate, channels, amplitude, lead_silence, tail_silence),
                     rate, vbr=vbr, id3=id3)


def write_mp3(path: Path, data: np.ndarray, rate: int, vbr: bool = False, id3: bool = True) -> Path:
    """Encodes with libsndfile (LAME); it writes no ID3 tag itself, so one is put in front."""
    out = io.BytesIO()
    sf.write(out, data, rate, format="MP3", bitrate_mode="VARIABLE" if vbr else "CONSTANT",
             compression_level=0.3)
    Path(path).write_bytes((id3v2_tag() if id3 else b"") + out.getvalue())
    return Path(path)


def id3v2_tag(title: str = "Hos geldiniz", padding: int = 512) -> bytes:
    """A minimal valid ID3v2.3 tag: one TIT2 (title) frame plus padding, as taggers leave."""
    text = b"\x00" + title.encode("latin-1")  # encoding byte 0 = ISO-8859-1
    frame = b"TIT2" + struct.pack(">IH", len(text), 0) + text
    body = frame + bytes(padding)
    size = len(body)
    syncsafe = bytes([size >> 21 & 0x7F, size >> 14 & 0x7F, size >> 7 & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + body


def id3v1_tag(title: str = "Hos geldiniz") -> bytes:
    """The 128-byte ID3v1 trailer many MP3s still carry at their end."""
    return b"TAG" + title.encode("latin-1").ljust(30, b"\0") + bytes(125 - 30)


def clipped_tone(freq: float = 1000.0, seconds: float = 2.0, rate: int = 44100, drive: float = 8.0,
                 lead_silence: float = 0.5, tail_silence: float = 0.5) -> np.ndarray:
    """A sine overdriven into full-scale clipping: nearly a square wave, as loud as it gets."""
    return np.clip(tone(freq, seconds, rate, 2, drive, lead_silence, tail_silence), -1.0, 1.0)


def write_wav(path: Path, data: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    sf.write(path, data, rate, subtype=subtype)
    return Path(path)


# --- files that are not (acceptable) audio ----------------------------------------

def empty_file(path: Path) -> Path:
    Path(path).write_bytes(b"")
    return Path(path)


def random_bytes(path: Path, size: int = 50_000, seed: int = 7) -> Path:
    Path(path).write_bytes(np.random.default_rng(seed).bytes(size))
    return Path(path)


def zip_file(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("prompt.wav", b"RIFF not really")
    return Path(path)


def png_file(path: Path) -> Path:
    """A valid 1x1 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
                           + chunk(b"IEND", b""))
    return Path(path)


def tone_other_container(path: Path, format: str, subtype: str | None = None) -> Path:
    """A perfectly good tone in a container we do not accept (FLAC, OGG, AIFF, ...)."""
    sf.write(path, tone(rate=44100), 44100, format=format, subtype=subtype)
    return Path(path)


def id3_in_front_of(path: Path) -> Path:
    """An ID3 tag glued in front of whatever path holds (libsndfile skips such tags)."""
    Path(path).write_bytes(id3v2_tag() + Path(path).read_bytes())
    return Path(path)


def truncated_copy(source: Path, target: Path, keep: int) -> Path:
    Path(target).write_bytes(Path(source).read_bytes()[:keep])
    return Path(target)


def wav_claiming_more_data(path: Path, factor: int = 100) -> Path:
    """A valid WAV whose data chunk header then claims `factor` times the data present."""
    raw = bytearray(tone_wav(path, rate=8000, channels=1).read_bytes())
    at = raw.index(b"data") + 4
    size = struct.unpack_from("<I", raw, at)[0]
    struct.pack_into("<I", raw, at, min(size * factor, 0xFFFFFFFF))
    Path(path).write_bytes(bytes(raw))
    return Path(path)


def wav_without_fmt_chunk(path: Path) -> Path:
    """RIFF/WAVE magic and a data chunk that fits, but no "fmt " chunk to say what it is."""
    data = bytes(8000)
    body = b"WAVE" + b"data" + struct.pack("<I", len(data)) + data
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return Path(path)


def id3_tagged_mp3_prefix(source: Path, target: Path, audio_bytes: int) -> Path:
    """The ID3 tag of an MP3 made by write_mp3 plus only the first audio_bytes after it."""
    tag = len(id3v2_tag())
    return truncated_copy(source, target, tag + audio_bytes)


# --- long uploads, written block by block ------------------------------------------

def speechlike(seconds: float, rate: int, channels: int = 1, seed: int = 1, block_s: float = 10.0):
    """Yields (frames, channels) float64 blocks of speech-like audio: "words" of 0.2 to
    0.8 s (a 120-300 Hz tone with two harmonics, its pitch gliding, its level pulsing at
    syllable rate, 4-6 Hz) between pauses of 0.1 to 0.6 s of faint noise (-70 dBFS).
    Deterministic for a seed; never more than block_s seconds in memory."""
    rng = np.random.default_rng(seed)
    total, done = round(seconds * rate), 0
    # Word/pause pattern: a list of (start, end, f0, syllable rate), drawn lazily.
    words: list[tuple[int, int, float, float]] = []
    at = 0
    while done < total:
        n = min(round(block_s * rate), total - done)
        while at < done + n:
            length, pause = rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.6)
            words.append((at, at + round(length * rate), rng.uniform(120, 300), rng.uniform(4, 6)))
            at += round((length + pause) * rate)
        x = rng.normal(0, 10 ** (-70 / 20), n)
        for start, end, f0, syl in words:
            lo, hi = max(start, done), min(end, done + n)
            if lo >= hi:
                continue
            t = (np.arange(lo, hi) - start) / rate
            pitch = 2 * np.pi * f0 * (t + 0.1 * t * t)
            word = np.sin(np.pi * t * rate / (end - start))  # rises and falls over the whole word
            envelope = 0.25 * (0.6 + 0.4 * np.sin(2 * np.pi * syl * t)) * word
            x[lo - done:hi - done] += envelope * (np.sin(pitch) + 0.5 * np.sin(2 * pitch) + 0.25 * np.sin(3 * pitch))
        words = [w for w in words if w[1] > done + n]
        done += n
        yield np.repeat(x[:, None], channels, axis=1) if channels > 1 else x[:, None]


def speechlike_file(path: Path, seconds: float, rate: int = 8000, channels: int = 1, format: str = "WAV",
                    subtype: str | None = "PCM_16") -> Path:
    """A long speech-like upload (see speechlike), written block by block: a 300 s 8 kHz
    mono PCM_16 WAV (4.8 MB) takes well under a second. format="MP3" encodes with LAME."""
    if format == "MP3":
        subtype = "MPEG_LAYER_III"
    with sf.SoundFile(path, "w", rate, channels, subtype=subtype, format=format) as out:
        for block in speechlike(seconds, rate, channels):
            out.write(block)
    return Path(path)
