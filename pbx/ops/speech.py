"""Turkish speech for an IVR notice: espeak-ng's Turkish voice (Debian package espeak-ng, the
voice the KVKK recording notice was made with), converted to what Asterisk plays best:
8 kHz 16-bit mono WAV. Files go under the prompts folder, which Asterisk sees read-only at
/srv/pbx/audio (pbx/asterisk/configgen.py AUDIO)."""
from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import soundfile
import soxr

from pbx.asterisk.configgen import AUDIO

NOTICE_FOLDER = "notices"
ESPEAK = "espeak-ng"


class SpeechError(RuntimeError):
    pass


async def synthesize(text: str) -> tuple[np.ndarray, int]:
    """The text spoken in Turkish: (samples, rate). The text goes on stdin, never argv."""
    process = await asyncio.create_subprocess_exec(
        ESPEAK, "-v", "tr", "-s", "150", "--stdin", "--stdout",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    wav, error = await process.communicate(text.encode("utf-8"))
    if process.returncode != 0 or not wav:
        raise SpeechError(f"espeak-ng failed: {error.decode(errors='replace')[:200]}")
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return samples, rate


async def notice_audio(audio_dir: Path, name: str, text: str) -> str:
    """Writes <audio_dir>/notices/<name>.wav once (8 kHz mono) and returns the path Asterisk
    plays it by, without extension."""
    folder = audio_dir / NOTICE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.wav"
    if not target.exists():
        samples, rate = await synthesize(text)
        narrow = soxr.resample(samples, rate, 8000)
        partial = target.with_suffix(".part")
        soundfile.write(partial, narrow, 8000, subtype="PCM_16", format="WAV")
        partial.replace(target)  # Asterisk never finds half a file
    return f"{AUDIO}/{NOTICE_FOLDER}/{name}"
