"""Small audio helpers for asserting on what a test phone heard."""

from __future__ import annotations

import numpy as np
import soundfile as sf


def _read_mono(wav_path: str, skip_seconds: float = 0.0) -> tuple[np.ndarray, int]:
    data, rate = sf.read(wav_path, dtype="float64", always_2d=True)
    mono = data.mean(axis=1)
    return mono[int(skip_seconds * rate):], rate


def dominant_frequency(wav_path: str, *, skip_seconds: float = 0.0) -> float:
    """Frequency (Hz) of the strongest FFT bin, ignoring DC."""
    samples, rate = _read_mono(wav_path, skip_seconds)
    if len(samples) < 2:
        raise ValueError(f"{wav_path}: too little audio to analyse ({len(samples)} samples)")
    # A window keeps leakage from a truncated tone out of neighbouring bins.
    spectrum = np.abs(np.fft.rfft((samples - samples.mean()) * np.hanning(len(samples))))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[int(np.argmax(spectrum))])


def rms_dbfs(wav_path: str, *, skip_seconds: float = 0.0) -> float:
    """RMS level relative to full scale; -inf for digital silence or an empty file."""
    samples, _ = _read_mono(wav_path, skip_seconds)
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples ** 2)))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def write_tone_wav(path: str, freq_hz: float, seconds: float, rate: int = 8000,
                   amplitude: float = 0.5) -> str:
    """Writes a 16-bit mono sine; returns path."""
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, amplitude * np.sin(2 * np.pi * freq_hz * t), rate, subtype="PCM_16")
    return path
