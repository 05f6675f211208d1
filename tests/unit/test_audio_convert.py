"""IVR prompt conversion: MP3/WAV uploads as people have them -> 8 and 16 kHz mono WAV."""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from pbx.audio import convert as audio
from pbx.audio.convert import Converted, Limits, NotAudio, TooLarge, convert, sniff_format
from tests.support import audio_samples as samples
from tests.support.audio import dominant_frequency, rms_dbfs

RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000)
WAV_SUBTYPES = ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT")
TONE_S = 2.0  # the samples' tone, between 0.5 s of silence each side
TOLERANCE_MS = 20
LEVEL_TOLERANCE_DB = 1.5


def expected_ms(sounding_s: float = TONE_S) -> float:
    """The documented trimming rule: what sounds, plus the pad kept each side."""
    return sounding_s * 1000 + 2 * audio.TRIM_PAD_MS


def assert_asterisk_wav(data: bytes, rate: int) -> np.ndarray:
    """A plain PCM WAV (format tag 1) at rate, 16-bit mono, as Asterisk's format_wav reads."""
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    tag, channels, file_rate = struct.unpack_from("<HHI", data, 20)
    assert (tag, channels, file_rate, struct.unpack_from("<H", data, 34)[0]) == (1, 1, rate, 16)
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, rate)
    samples_read, _ = sf.read(io.BytesIO(data), dtype="float64")
    return samples_read


def assert_prompt(result: Converted, source_format: str, sounding_s: float = TONE_S,
                  freq: float = 1000.0) -> None:
    assert result.source_format == source_format
    wide = assert_asterisk_wav(result.wideband, 16000)
    narrow = assert_asterisk_wav(result.narrowband, 8000)
    assert result.duration_ms == round(len(wide) / 16)
    assert abs(len(narrow) * 2 - len(wide)) <= 2
    assert abs(result.duration_ms - expected_ms(sounding_s)) <= TOLERANCE_MS
    for data, samples_read in ((result.wideband, wide), (result.narrowband, narrow)):
        assert abs(dominant_frequency(io.BytesIO(data)) - freq) <= 15
        assert abs(rms_dbfs(io.BytesIO(data)) - audio.TARGET_RMS_DBFS) <= LEVEL_TOLERANCE_DB
        assert peak_dbfs(samples_read) <= audio.PEAK_LIMIT_DBFS


def peak_dbfs(x: np.ndarray) -> float:
    return 20 * np.log10(max(np.max(np.abs(x)), 1e-12))  # digital silence: -240, not -inf


# --- round trips ---------------------------------------------------------------------

@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
@pytest.mark.parametrize("channels", (1, 2))
@pytest.mark.parametrize("rate", RATES)
def test_wav_round_trip(tmp_path, rate, channels, subtype):
    path = samples.tone_wav(tmp_path / "in.wav", rate=rate, channels=channels, subtype=subtype)
    assert_prompt(convert(path), "wav")


@pytest.mark.parametrize("format, subtype, rate, channels", [
    ("WAVEX", "PCM_16", 48000, 2),  # WAVE_FORMAT_EXTENSIBLE header
    ("RF64", "PCM_24", 44100, 2),  # 64-bit sizes, data size in the ds64 chunk
    ("WAV", "DOUBLE", 22050, 1),
    ("WAV", "ULAW", 8000, 1),  # common for telephony recordings
    ("WAV", "ALAW", 8000, 1),
    ("WAVEX", "PCM_16", 48000, 6),  # 5.1: every channel averaged into one
])
def test_other_wav_variants_round_trip(tmp_path, format, subtype, rate, channels):
    path = samples.tone_wav(tmp_path / "in.wav", rate=rate, channels=channels, subtype=subtype, format=format)
    assert_prompt(convert(path), "wav")


@pytest.mark.parametrize("vbr", (False, True), ids=("cbr", "vbr"))
@pytest.mark.parametrize("channels", (1, 2))
@pytest.mark.parametrize("rate", RATES)
def test_mp3_round_trip(tmp_path, rate, channels, vbr):
    path = samples.tone_mp3(tmp_path / "in.mp3", rate=rate, channels=channels, vbr=vbr, id3=True)
    assert path.read_bytes()[:3] == b"ID3"
    assert_prompt(convert(path), "mp3")


def test_mp3_without_id3_tag(tmp_path):
    assert_prompt(convert(samples.tone_mp3(tmp_path / "in.mp3", id3=False)), "mp3")


def test_mp3_with_id3v1_trailer(tmp_path):
    path = samples.tone_mp3(tmp_path / "in.mp3", vbr=True)
    path.write_bytes(path.read_bytes() + samples.id3v1_tag())
    assert_prompt(convert(path), "mp3")


def test_no_silence_to_trim(tmp_path):
    path = samples.tone_wav(tmp_path / "in.wav", lead_silence=0, tail_silence=0)
    result = convert(path)
    assert abs(result.duration_ms - TONE_S * 1000) <= TOLERANCE_MS  # no pad beyond the file's ends
    assert_prompt(result, "wav", sounding_s=TONE_S - 2 * audio.TRIM_PAD_MS / 1000)


def test_trimming_keeps_a_pad_of_the_original_silence(tmp_path):
    result = convert(samples.tone_wav(tmp_path / "in.wav", rate=44100, channels=1))
    wide = sf.read(io.BytesIO(result.wideband))[0]
    pad = audio.TRIM_PAD_MS * 16
    assert audio.TRIM_PAD_MS >= 10  # enough to keep a word's onset
    assert peak_dbfs(wide[:pad - 48]) < -60 and peak_dbfs(wide[-(pad - 48):]) < -60  # silence kept...
    onset = np.flatnonzero(np.abs(wide) > 0.01)[0]
    assert abs(onset - pad) <= 48  # ... for TRIM_PAD_MS before the tone (3 ms for the filters)


# --- loudness ------------------------------------------------------------------------

def test_clipped_and_quiet_inputs_end_equally_loud(tmp_path):
    loud = convert(samples.write_wav(tmp_path / "loud.wav", samples.clipped_tone(), 44100))
    quiet = convert(samples.tone_wav(tmp_path / "quiet.wav", amplitude=0.01, subtype="PCM_24"))
    for result in (loud, quiet):
        for data in (result.wideband, result.narrowband):
            assert abs(rms_dbfs(io.BytesIO(data)) - audio.TARGET_RMS_DBFS) <= LEVEL_TOLERANCE_DB
            assert peak_dbfs(sf.read(io.BytesIO(data))[0]) <= audio.PEAK_LIMIT_DBFS
    assert abs(rms_dbfs(io.BytesIO(loud.wideband)) - rms_dbfs(io.BytesIO(quiet.wideband))) <= LEVEL_TOLERANCE_DB


def test_peak_limit_wins_over_loudness_target(tmp_path):
    """Quiet speech-like tone with a short clipped burst: reaching the target would push
    the burst (and the overshoot the low-pass filters add to its edges) past the limit."""
    rate = 44100
    quiet = samples.tone(seconds=5, rate=rate, amplitude=0.03, lead_silence=0.5, tail_silence=0)
    burst = samples.clipped_tone(seconds=0.03, rate=rate, lead_silence=0, tail_silence=0.5)
    result = convert(samples.write_wav(tmp_path / "in.wav", np.concatenate([quiet, burst]), rate))
    for data in (result.wideband, result.narrowband):
        x = sf.read(io.BytesIO(data))[0]
        assert peak_dbfs(x) <= audio.PEAK_LIMIT_DBFS
        assert np.max(np.abs(x)) < 32767 / 32768  # never clipped
        assert rms_dbfs(io.BytesIO(data)) < audio.TARGET_RMS_DBFS - 3  # the target was given up
    peaks = [peak_dbfs(sf.read(io.BytesIO(d))[0]) for d in (result.wideband, result.narrowband)]
    assert max(peaks) > audio.PEAK_LIMIT_DBFS - 0.1  # ... for exactly the peak limit


# --- detection by content ------------------------------------------------------------

def test_format_comes_from_content_not_name(tmp_path):
    wav_named_mp3 = samples.tone_wav(tmp_path / "x.mp3")
    mp3_named_wav = samples.tone_mp3(tmp_path / "x.wav")
    assert convert(wav_named_mp3).source_format == "wav"
    assert convert(mp3_named_wav).source_format == "mp3"


def test_sniff_format(tmp_path):
    wav = samples.tone_wav(tmp_path / "a.wav").read_bytes()
    mp3 = samples.tone_mp3(tmp_path / "a.mp3", id3=False).read_bytes()
    assert sniff_format(wav[:64]) == "wav"
    assert sniff_format(b"RF64\xff\xff\xff\xffWAVEds64") == "wav"
    assert sniff_format(mp3[:4096]) == "mp3"
    assert sniff_format(samples.id3v2_tag() + mp3[:4096]) == "mp3"
    assert sniff_format(samples.id3v2_tag()) == "mp3"  # only the tag in view: the decoder judges
    not_audio = [b"", b"RIFF", b"RIFF\x00\x00\x00\x00AVI LIST", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n",
                 b"OggS\x00\x02", b"fLaC\x00\x00\x00\x22", samples.id3v2_tag() + b"fLaC\x00\x00\x00\x22",
                 b"\xff\xfb\x90\xc4" + bytes(2000),  # one frame header, then no next frame
                 b"\xff\xfd\x90\xc4" + bytes(100),  # layer II, not III
                 b"\xff\xfb\xf0\xc4" + bytes(100)]  # bitrate index 15 (invalid)
    for head in not_audio:
        assert sniff_format(head) is None, head[:12]


# --- rejected uploads ----------------------------------------------------------------

def _mp3_cut_after_tag(tmp_path, audio_bytes):
    full = samples.tone_mp3(tmp_path / "full.mp3")
    return samples.id3_tagged_mp3_prefix(full, tmp_path / "cut.mp3", audio_bytes)


@pytest.mark.parametrize("make", [
    pytest.param(lambda p: samples.empty_file(p / "x.wav"), id="empty"),
    pytest.param(lambda p: samples.random_bytes(p / "x.mp3"), id="random-bytes"),
    pytest.param(lambda p: samples.zip_file(p / "x.wav"), id="zip"),
    pytest.param(lambda p: samples.png_file(p / "x.mp3"), id="png"),
    pytest.param(lambda p: samples.tone_other_container(p / "x.flac", "FLAC"), id="flac"),
    pytest.param(lambda p: samples.tone_other_container(p / "x.ogg", "OGG", "VORBIS"), id="ogg"),
    pytest.param(lambda p: samples.tone_other_container(p / "x.aiff", "AIFF", "PCM_16"), id="aiff"),
    pytest.param(lambda p: samples.id3_in_front_of(samples.tone_other_container(p / "x.mp3", "FLAC")),
                 id="id3-then-flac"),
    pytest.param(lambda p: _mp3_cut_after_tag(p, 100), id="mp3-id3-plus-100-bytes"),
    pytest.param(lambda p: _mp3_cut_after_tag(p, 1024), id="mp3-first-kb-only-silence"),
    pytest.param(lambda p: samples.wav_claiming_more_data(p / "x.wav"), id="wav-data-past-end"),
    pytest.param(lambda p: samples.wav_without_fmt_chunk(p / "x.wav"), id="wav-without-fmt"),
    pytest.param(lambda p: samples.tone_wav(p / "x.wav", rate=2000, freq=500), id="wav-at-2-khz"),
    pytest.param(lambda p: samples.tone_wav(p / "x.wav", amplitude=0.0), id="wav-all-silent"),
    pytest.param(lambda p: samples.tone_mp3(p / "x.mp3", amplitude=0.001), id="mp3-below-silence-level"),
])
def test_not_audio(tmp_path, make):
    with pytest.raises(NotAudio) as caught:
        convert(make(tmp_path))
    assert caught.value.reason


def test_wav_cut_short_is_not_audio(tmp_path):
    full = samples.tone_wav(tmp_path / "full.wav")
    cut = samples.truncated_copy(full, tmp_path / "cut.wav", full.stat().st_size // 2)
    with pytest.raises(NotAudio, match="truncated"):
        convert(cut)


def test_float_wav_with_nan_is_not_audio(tmp_path):
    data = samples.tone(channels=1)
    data[30000] = np.nan
    with pytest.raises(NotAudio, match="invalid samples"):
        convert(samples.write_wav(tmp_path / "x.wav", data, 44100, subtype="FLOAT"))


def test_mp3_cut_mid_tone_converts_what_is_there(tmp_path):
    """libsndfile decodes a truncated MP3 up to the cut; we accept that, consistently."""
    full = samples.tone_mp3(tmp_path / "full.mp3", channels=1)
    cut = samples.truncated_copy(full, tmp_path / "cut.mp3", full.stat().st_size * 3 // 4)
    result = convert(cut)
    assert result.source_format == "mp3"
    assert expected_ms(0.5) < result.duration_ms < expected_ms(TONE_S)
    assert abs(dominant_frequency(io.BytesIO(result.wideband)) - 1000) <= 15


def test_over_max_bytes(tmp_path):
    path = samples.tone_wav(tmp_path / "x.wav")
    with pytest.raises(TooLarge):
        convert(path, Limits(max_bytes=path.stat().st_size - 1))
    convert(path, Limits(max_bytes=path.stat().st_size))


@pytest.mark.parametrize("make", [
    lambda p: samples.tone_wav(p / "x.wav", seconds=1.5, lead_silence=0, tail_silence=0),
    lambda p: samples.tone_mp3(p / "x.mp3", seconds=1.5, lead_silence=0, tail_silence=0),
    lambda p: samples.tone_mp3(p / "x.mp3", seconds=1.5, lead_silence=0, tail_silence=0, vbr=True),
], ids=("wav", "mp3", "mp3-vbr"))
def test_over_max_seconds(tmp_path, make):
    with pytest.raises(TooLarge):
        convert(make(tmp_path), Limits(max_seconds=1))


def test_silence_counts_towards_max_seconds(tmp_path):
    """The limit is on what is decoded, before trimming: that is where the work is."""
    path = samples.tone_wav(tmp_path / "x.wav", seconds=0.5, lead_silence=0.4, tail_silence=0.4)
    with pytest.raises(TooLarge):
        convert(path, Limits(max_seconds=1))


def test_mp3_length_is_counted_not_taken_from_header(tmp_path, monkeypatch):
    """A header can lie (or libsndfile can only estimate): decoding stops at the limit."""
    path = samples.tone_mp3(tmp_path / "x.mp3", seconds=3, channels=1)
    monkeypatch.setattr(sf.SoundFile, "frames", property(lambda self: 1), raising=True)
    with pytest.raises(TooLarge):
        convert(path, Limits(max_seconds=2))


def test_rejections_carry_a_reason():
    assert NotAudio("x").reason == "x" and isinstance(TooLarge("y"), audio.AudioRejected)
