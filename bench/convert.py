"""Prompt conversion benchmark: speed (real-time factor per core) and peak memory.

    PYTHONPATH=. .venv/bin/python bench/convert.py [--repeat 3] [--keep DIR]

Generates, in a temporary directory, 44.1 kHz stereo uploads of speech-like audio
(tests.support.audio_samples.speechlike: "words" of 0.2-0.8 s, a 120-300 Hz gliding
tone with two harmonics pulsing at syllable rate, between 0.1-0.6 s pauses of -70 dBFS
noise) as a 1-minute and a 10-minute PCM_16 WAV and MP3 (LAME through libsndfile, CBR,
compression level 0.5). Each case is then measured in a fresh subprocess, so that
ru_maxrss (a high-water mark for the whole process) is that case's alone:

- wall: time.perf_counter() around convert(), median of --repeat runs;
- CPU: time.process_time() of the same runs (user + system, all threads; the
  conversion is single-threaded), median; RTF per core = audio seconds / CPU seconds;
- RSS growth: ru_maxrss after the timed runs minus ru_maxrss before them (imports
  done and one warm-up conversion of a 1 s file of the same format, so libraries'
  one-off allocations are not counted); also ru_maxrss growth since the imports,
  warm-up included. (The parent imports nothing large: Linux starts a child's
  ru_maxrss at its parent's resident size, so a big parent would mask the child's.)
- tracemalloc peak: one more conversion with tracemalloc on (slower, not timed):
  what Python and numpy allocated at most at one time.

Limits are raised for the benchmark (a 10-minute 44.1 kHz stereo WAV is 106 MB, over
the service's 20 MB default; and a 600 s MP3 decodes to slightly more than 600 s, the
encoder's padding). Prints a Markdown table and the machine; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# numpy, soundfile, soxr and pbx are imported only in the subprocesses (_libraries):
# the parent that spawns the measured children stays small (see the docstring).

RATE, CHANNELS = 44100, 2
CASES = [("1 min", 60, "WAV"), ("1 min", 60, "MP3"), ("10 min", 600, "WAV"), ("10 min", 600, "MP3")]
MP3_COMPRESSION = 0.5


def _libraries():
    import numpy as np
    import soundfile as sf
    import soxr

    from pbx.audio import convert
    from tests.support import audio_samples as samples
    return np, sf, soxr, convert, samples


def make_upload(directory: Path, seconds: float, fmt: str) -> Path:
    _, sf, _, _, samples = _libraries()
    fmt = fmt.upper()
    path = directory / f"speech-{seconds:g}s.{fmt.lower()}"
    if fmt == "MP3":  # speechlike_file's MP3 uses libsndfile's defaults; here, stated settings
        with sf.SoundFile(path, "w", RATE, CHANNELS, format="MP3", subtype="MPEG_LAYER_III",
                          compression_level=MP3_COMPRESSION, bitrate_mode="CONSTANT") as out:
            for block in samples.speechlike(seconds, RATE, CHANNELS):
                out.write(block)
        return path
    return samples.speechlike_file(path, seconds, RATE, CHANNELS, format="WAV", subtype="PCM_16")


def convert_once(path: Path, work: Path) -> int:
    """One conversion, outputs deleted; the output's duration in ms."""
    convert = _libraries()[3]
    limits = convert.Limits(max_bytes=1 << 30, max_seconds=3600)
    result = convert.convert(path, work, limits)
    result.narrowband.unlink()
    result.wideband.unlink()
    return result.duration_ms


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure(path: Path, warm: Path, repeat: int) -> dict:
    """Runs in a fresh process: see the module's docstring. warm: a short file of the
    same format, converted first (the decoder's one-off set-up)."""
    _, sf, _, _, _ = _libraries()
    work = Path(tempfile.mkdtemp(prefix="bench-convert-work-"))
    try:
        rss_imported = maxrss_bytes()
        convert_once(warm, work)
        seconds = sf.info(path).duration
        rss_before = maxrss_bytes()
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            duration_ms = convert_once(path, work)
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        rss_growth = maxrss_bytes() - rss_before
        tracemalloc.start()
        convert_once(path, work)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert not any(work.iterdir()), list(work.iterdir())  # convert left nothing behind
    finally:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()
    cpu = statistics.median(cpus)
    return {"audio_s": seconds, "output_ms": duration_ms, "wall_s": statistics.median(walls), "cpu_s": cpu,
            "rtf": seconds / cpu, "traced_peak": traced_peak, "rss_imported": rss_imported,
            "rss_before": rss_before, "rss_growth": rss_growth, "rss_since_import": maxrss_bytes() - rss_imported}


def machine() -> dict:
    np, sf, soxr, _, _ = _libraries()
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": f"{len(os.sched_getaffinity(0))} available ({os.cpu_count()} online)",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "numpy": np.__version__,
        "soundfile": f"{sf.__version__} (libsndfile {sf.__libsndfile_version__})",
        "soxr": f"{soxr.__version__} (libsoxr {soxr.__libsoxr_version__})",
    }


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed conversions per case (median)")
    parser.add_argument("--keep", type=Path, help="generate the uploads here and keep them")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)  # measure one case: FILE WARM-UP
    parser.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)  # DIR SECONDS FORMAT
    args = parser.parse_args()
    if args.child:
        print(json.dumps({**measure(*args.child, args.repeat), "machine": machine()}))
        return
    if args.generate:
        print(make_upload(Path(args.generate[0]), float(args.generate[1]), args.generate[2]))
        return

    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-convert-"))
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        warm = {fmt: Path(_run("--generate", str(directory), "1", fmt)) for fmt in ("WAV", "MP3")}
        for label, seconds, fmt in CASES:
            started = time.perf_counter()
            path = Path(_run("--generate", str(directory), str(seconds), fmt))
            print(f"# {label} {fmt}: generated {mb(path.stat().st_size)} in "
                  f"{time.perf_counter() - started:.1f} s; converting", file=sys.stderr, flush=True)
            measured = _run("--child", str(path), str(warm[fmt]), "--repeat", str(args.repeat))
            rows.append((label, fmt, path.stat().st_size, json.loads(measured)))
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            for leftover in directory.iterdir():
                leftover.unlink()
            directory.rmdir()

    print("| input (44.1 kHz stereo) | file size | output | wall | CPU | RTF per core | tracemalloc peak "
          "| RSS growth | RSS growth incl. warm-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, fmt, size, m in rows:
        print(f"| {label} {fmt} | {mb(size)} | {m['output_ms'] / 1000:.1f} s | {m['wall_s'] * 1000:.0f} ms "
              f"| {m['cpu_s'] * 1000:.0f} ms | {m['rtf']:.0f}x | {mb(m['traced_peak'])} | {mb(m['rss_growth'])} "
              f"| {mb(m['rss_since_import'])} |")
    print()
    print(f"(median of {args.repeat} conversions per case; ru_maxrss after the imports / before the timed runs: "
          + ", ".join(f"{label} {fmt} {mb(m['rss_imported'])} / {mb(m['rss_before'])}" for label, fmt, _, m in rows)
          + ")")
    print()
    for key, value in rows[0][3]["machine"].items():
        print(f"- {key}: {value}")


def _run(*args: str) -> str:
    """This script in a fresh process; the last line it printed."""
    child = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return child.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    main()
