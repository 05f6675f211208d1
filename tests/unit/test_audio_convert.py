"""IVR prompt conversion: MP3/WAV uploads as people have them -> 8 and 16 kHz mono WAV."""
from __future__ import annotations

import io
import struct
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from pbx.audio import convert as audio
from pbx.audio import store as store_module
from pbx.audio.convert import Converted, Limits, NotAudio, TooLarge, convert, sniff_format
from pbx.audio.store import NARROWBAND, WIDEBAND, PromptStore
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


def outputs(result: Converted) -> tuple[bytes, bytes]:
    """(wideband, narrowband) WAV files as bytes, read from where convert left them."""
    return result.wideband.read_bytes(), result.narrowband.read_bytes()


def assert_prompt(result: Converted, source_format: str, sounding_s: float = TONE_S,
                  freq: float = 1000.0) -> None:
    assert result.source_format == source_format
    assert result.narrowband.parent == result.wideband.parent and result.narrowband != result.wideband
    wideband, narrowband = outputs(result)
    wide = assert_asterisk_wav(wideband, 16000)
    narrow = assert_asterisk_wav(narrowband, 8000)
    assert result.duration_ms == round(len(wide) / 16)
    assert abs(len(narrow) * 2 - len(wide)) <= 2
    assert abs(result.duration_ms - expected_ms(sounding_s)) <= TOLERANCE_MS
    for data, samples_read in ((wideband, wide), (narrowband, narrow)):
        assert abs(dominant_frequency(io.BytesIO(data)) - freq) <= 15
        assert abs(rms_dbfs(io.BytesIO(data)) - audio.TARGET_RMS_DBFS) <= LEVEL_TOLERANCE_DB
        assert peak_dbfs(samples_read) <= audio.PEAK_LIMIT_DBFS


def peak_dbfs(x: np.ndarray) -> float:
    return 20 * np.log10(max(np.max(np.abs(x)), 1e-12))  # digital silence: -240, not -inf


@pytest.fixture
def work(tmp_path):
    """convert's working directory. Afterwards it may hold the outputs of successful
    conversions (which the caller takes over), never a temporary file of convert's."""
    path = tmp_path / "work"
    path.mkdir()
    yield path
    leftovers = [p.name for p in path.iterdir() if p.suffix not in (".wav", ".wav16")]
    assert leftovers == []


# --- round trips ---------------------------------------------------------------------

@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
@pytest.mark.parametrize("channels", (1, 2))
@pytest.mark.parametrize("rate", RATES)
def test_wav_round_trip(tmp_path, work, rate, channels, subtype):
    path = samples.tone_wav(tmp_path / "in.wav", rate=rate, channels=channels, subtype=subtype)
    assert_prompt(convert(path, work), "wav")


@pytest.mark.parametrize("format, subtype, rate, channels", [
    ("WAVEX", "PCM_16", 48000, 2),  # WAVE_FORMAT_EXTENSIBLE header
    ("RF64", "PCM_24", 44100, 2),  # 64-bit sizes, data size in the ds64 chunk
    ("WAV", "DOUBLE", 22050, 1),
    ("WAV", "ULAW", 8000, 1),  # common for telephony recordings
    ("WAV", "ALAW", 8000, 1),
    ("WAVEX", "PCM_16", 48000, 6),  # 5.1: every channel averaged into one
])
def test_other_wav_variants_round_trip(tmp_path, work, format, subtype, rate, channels):
    path = samples.tone_wav(tmp_path / "in.wav", rate=rate, channels=channels, subtype=subtype, format=format)
    assert_prompt(convert(path, work), "wav")


@pytest.mark.parametrize("vbr", (False, True), ids=("cbr", "vbr"))
@pytest.mark.parametrize("channels", (1, 2))
@pytest.mark.parametrize("rate", RATES)
def test_mp3_round_trip(tmp_path, work, rate, channels, vbr):
    path = samples.tone_mp3(tmp_path / "in.mp3", rate=rate, channels=channels, vbr=vbr, id3=True)
    assert path.read_bytes()[:3] == b"ID3"
    assert_prompt(convert(path, work), "mp3")


def test_mp3_without_id3_tag(tmp_path, work):
    assert_prompt(convert(samples.tone_mp3(tmp_path / "in.mp3", id3=False), work), "mp3")


def test_mp3_with_id3v1_trailer(tmp_path, work):
    path = samples.tone_mp3(tmp_path / "in.mp3", vbr=True)
    path.write_bytes(path.read_bytes() + samples.id3v1_tag())
    assert_prompt(convert(path, work), "mp3")


def test_no_silence_to_trim(tmp_path, work):
    path = samples.tone_wav(tmp_path / "in.wav", lead_silence=0, tail_silence=0)
    result = convert(path, work)
    assert abs(result.duration_ms - TONE_S * 1000) <= TOLERANCE_MS  # no pad beyond the file's ends
    assert_prompt(result, "wav", sounding_s=TONE_S - 2 * audio.TRIM_PAD_MS / 1000)


def test_trimming_keeps_a_pad_of_the_original_silence(tmp_path, work):
    result = convert(samples.tone_wav(tmp_path / "in.wav", rate=44100, channels=1), work)
    wide = sf.read(result.wideband)[0]
    pad = audio.TRIM_PAD_MS * 16
    assert audio.TRIM_PAD_MS >= 10  # enough to keep a word's onset
    assert peak_dbfs(wide[:pad - 48]) < -60 and peak_dbfs(wide[-(pad - 48):]) < -60  # silence kept...
    onset = np.flatnonzero(np.abs(wide) > 0.01)[0]
    assert abs(onset - pad) <= 48  # ... for TRIM_PAD_MS before the tone (3 ms for the filters)


# --- loudness ------------------------------------------------------------------------

def test_clipped_and_quiet_inputs_end_equally_loud(tmp_path, work):
    loud = convert(samples.write_wav(tmp_path / "loud.wav", samples.clipped_tone(), 44100), work)
    quiet = convert(samples.tone_wav(tmp_path / "quiet.wav", amplitude=0.01, subtype="PCM_24"), work)
    for result in (loud, quiet):
        for data in outputs(result):
            assert abs(rms_dbfs(io.BytesIO(data)) - audio.TARGET_RMS_DBFS) <= LEVEL_TOLERANCE_DB
            assert peak_dbfs(sf.read(io.BytesIO(data))[0]) <= audio.PEAK_LIMIT_DBFS
    assert abs(rms_dbfs(loud.wideband) - rms_dbfs(quiet.wideband)) <= LEVEL_TOLERANCE_DB


def test_peak_limit_wins_over_loudness_target(tmp_path, work):
    """Quiet speech-like tone with a short clipped burst: reaching the target would push
    the burst (and the overshoot the low-pass filters add to its edges) past the limit."""
    rate = 44100
    quiet = samples.tone(seconds=5, rate=rate, amplitude=0.03, lead_silence=0.5, tail_silence=0)
    burst = samples.clipped_tone(seconds=0.03, rate=rate, lead_silence=0, tail_silence=0.5)
    result = convert(samples.write_wav(tmp_path / "in.wav", np.concatenate([quiet, burst]), rate), work)
    for data in outputs(result):
        x = sf.read(io.BytesIO(data))[0]
        assert peak_dbfs(x) <= audio.PEAK_LIMIT_DBFS
        assert np.max(np.abs(x)) < 32767 / 32768  # never clipped
        assert rms_dbfs(io.BytesIO(data)) < audio.TARGET_RMS_DBFS - 3  # the target was given up
    peaks = [peak_dbfs(sf.read(io.BytesIO(d))[0]) for d in outputs(result)]
    assert max(peaks) > audio.PEAK_LIMIT_DBFS - 0.1  # ... for exactly the peak limit


# --- detection by content ------------------------------------------------------------

def test_format_comes_from_content_not_name(tmp_path, work):
    wav_named_mp3 = samples.tone_wav(tmp_path / "x.mp3")
    mp3_named_wav = samples.tone_mp3(tmp_path / "x.wav")
    assert convert(wav_named_mp3, work).source_format == "wav"
    assert convert(mp3_named_wav, work).source_format == "mp3"


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
def test_not_audio(tmp_path, work, make):
    with pytest.raises(NotAudio) as caught:
        convert(make(tmp_path), work)
    assert caught.value.reason
    assert list(work.iterdir()) == []


def test_wav_cut_short_is_not_audio(tmp_path, work):
    full = samples.tone_wav(tmp_path / "full.wav")
    cut = samples.truncated_copy(full, tmp_path / "cut.wav", full.stat().st_size // 2)
    with pytest.raises(NotAudio, match="truncated"):
        convert(cut, work)


def test_float_wav_with_nan_is_not_audio(tmp_path, work):
    data = samples.tone(channels=1)
    data[30000] = np.nan
    with pytest.raises(NotAudio, match="invalid samples"):
        convert(samples.write_wav(tmp_path / "x.wav", data, 44100, subtype="FLOAT"), work)


@pytest.mark.parametrize("keep", [1 / 3, 3 / 4])
def test_mp3_cut_mid_tone_is_refused_like_a_truncated_wav(tmp_path, work, keep):
    """libsndfile would decode a cut-off MP3 up to the cut; like a cut-off WAV, it is
    refused, so that the customer re-sends it (issue 13)."""
    for vbr in (False, True):
        full = samples.tone_mp3(tmp_path / "full.mp3", channels=1, vbr=vbr)
        cut = samples.truncated_copy(full, tmp_path / "cut.mp3", int(full.stat().st_size * keep))
        with pytest.raises(NotAudio, match="truncated"):
            convert(cut, work)
        convert(full, work)


def test_over_max_bytes(tmp_path, work):
    path = samples.tone_wav(tmp_path / "x.wav")
    with pytest.raises(TooLarge):
        convert(path, work, Limits(max_bytes=path.stat().st_size - 1))
    convert(path, work, Limits(max_bytes=path.stat().st_size))


@pytest.mark.parametrize("make", [
    lambda p: samples.tone_wav(p / "x.wav", seconds=1.5, lead_silence=0, tail_silence=0),
    lambda p: samples.tone_mp3(p / "x.mp3", seconds=1.5, lead_silence=0, tail_silence=0),
    lambda p: samples.tone_mp3(p / "x.mp3", seconds=1.5, lead_silence=0, tail_silence=0, vbr=True),
], ids=("wav", "mp3", "mp3-vbr"))
def test_over_max_seconds(tmp_path, work, make):
    with pytest.raises(TooLarge):
        convert(make(tmp_path), work, Limits(max_seconds=1))


def test_silence_counts_towards_max_seconds(tmp_path, work):
    """The limit is on what is decoded, before trimming: that is where the work is."""
    path = samples.tone_wav(tmp_path / "x.wav", seconds=0.5, lead_silence=0.4, tail_silence=0.4)
    with pytest.raises(TooLarge):
        convert(path, work, Limits(max_seconds=1))


def test_mp3_length_is_counted_not_taken_from_header(tmp_path, work, monkeypatch):
    """A header can lie (or libsndfile can only estimate): decoding stops at the limit."""
    path = samples.tone_mp3(tmp_path / "x.mp3", seconds=3, channels=1)
    monkeypatch.setattr(sf.SoundFile, "frames", property(lambda self: 1), raising=True)
    with pytest.raises(TooLarge):
        convert(path, work, Limits(max_seconds=2))


def test_rejections_carry_a_reason():
    assert NotAudio("x").reason == "x" and isinstance(TooLarge("y"), audio.AudioRejected)


# --- streaming: working files, flat memory ---------------------------------------------

def test_outputs_are_the_only_files_left(tmp_path, work):
    result = convert(samples.tone_mp3(tmp_path / "in.mp3"), work)
    assert sorted(work.iterdir()) == sorted([result.narrowband, result.wideband])
    assert (result.narrowband.suffix, result.wideband.suffix) == (".wav", ".wav16")


@pytest.mark.parametrize("failing_call", (1, 2))
def test_a_failure_while_writing_leaves_nothing(tmp_path, work, monkeypatch, failing_call):
    """An error after the outputs were started (a full disk, say) takes them away too."""
    write_wav, calls = audio._write_wav, []

    def failing(*args):
        calls.append(args)
        write_wav(*args)
        if len(calls) == failing_call:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(audio, "_write_wav", failing)
    with pytest.raises(OSError, match="space"):
        convert(samples.tone_wav(tmp_path / "in.wav"), work)
    assert list(work.iterdir()) == []


def _reference_levels(x: np.ndarray) -> tuple[int, int, int, float]:
    """The trimming rule on a whole signal at once: (length, onset, offset, loud power)."""
    window, level = audio.WIDE_RATE * audio.WINDOW_MS // 1000, 10 ** (audio.SILENCE_DBFS / 20)
    power = np.array([np.mean(x[i:i + window].astype(np.float64) ** 2) for i in range(0, len(x), window)])
    loud = np.flatnonzero(power > level ** 2)
    first, last = loud[0] * window, loud[-1] * window
    onset = first + np.flatnonzero(np.abs(x[first:first + window]) > level)[0]
    offset = last + np.flatnonzero(np.abs(x[last:last + window]) > level)[-1] + 1
    return len(x), int(onset), int(offset), float(power[loud].mean())


@pytest.mark.parametrize("block", (1, 7, 159, 160, 161, 1000, 65536))
def test_levels_do_not_depend_on_how_the_signal_is_cut(block):
    """Windows stay on the 10 ms grid from the signal's start whatever blocks arrive."""
    rng = np.random.default_rng(3)
    x = (rng.normal(0, 1e-4, 16000 * 3 + 77)).astype(np.float32)  # noise at -80 dBFS
    x[4003:9001] += 0.2 * np.sin(np.arange(4998) / 3).astype(np.float32)
    x[30000:30050] += 0.5  # a click, alone in its window
    x[-40:] += 0.1  # sound in the short last window
    levels = audio._Levels()
    for at in range(0, len(x), block):
        levels.add(x[at:at + block])
    levels.finish()
    length, onset, offset, power = _reference_levels(x)
    assert (levels.length, levels.onset, levels.offset) == (length, onset, offset)
    assert levels.loud_power() == pytest.approx(power, rel=1e-5)
    pad = audio.WIDE_RATE * audio.TRIM_PAD_MS // 1000
    assert levels.kept_range() == ((onset - pad) & ~1, length)


def _peak_traced_memory(path, work) -> int:
    tracemalloc.start()
    try:
        result = convert(path, work)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    wide = sf.read(result.wideband, dtype="int16")[0]  # a complete, limited output
    assert abs(result.duration_ms - len(wide) / 16) <= 1 and np.max(np.abs(wide)) < 32767
    for output in (result.narrowband, result.wideband):
        output.unlink()
    return peak


def test_memory_does_not_grow_with_the_length(tmp_path, work):
    """The converter holds blocks, never the signal: 5x the audio, about the same peak
    of Python-visible memory (numpy's buffers are traced; the earlier design needed
    64 KB per second of audio at 16 kHz, ~19 MB more for 300 s than for 60 s)."""
    short = samples.speechlike_file(tmp_path / "60.wav", 60)
    long = samples.speechlike_file(tmp_path / "300.wav", 300)
    _peak_traced_memory(samples.tone_wav(tmp_path / "warm.wav"), work)  # first-call allocations
    short_peak, long_peak = _peak_traced_memory(short, work), _peak_traced_memory(long, work)
    assert long_peak < 1.5 * short_peak + 2_000_000, (short_peak, long_peak)


# --- into the store ----------------------------------------------------------------------

def test_store_moves_the_outputs_into_place(tmp_path):
    store = PromptStore(tmp_path / "ivr_audio")
    result = convert(samples.tone_wav(tmp_path / "in.wav"), store.incoming_dir())
    expected = outputs(result)
    store.save(7, "abc123", result.narrowband, result.wideband)
    assert list(store.incoming_dir().iterdir()) == []
    assert store.path(7, "abc123", WIDEBAND).read_bytes() == expected[0]
    assert store.path(7, "abc123", NARROWBAND).read_bytes() == expected[1]


def test_a_failed_save_leaves_nothing(tmp_path, monkeypatch):
    store = PromptStore(tmp_path / "ivr_audio")
    result = convert(samples.tone_wav(tmp_path / "in.wav"), store.incoming_dir())
    real_replace, calls = store_module.os.replace, []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 2:  # the first file is in place, the second fails
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(store_module.os, "replace", failing_replace)
    with pytest.raises(OSError):
        store.save(7, "abc123", result.narrowband, result.wideband)
    assert list(store.incoming_dir().iterdir()) == [] and list(store.tenant_dir(7).iterdir()) == []
