"""Archive throughput: N finished 1-minute recordings (8 kHz 16-bit mono, ~0.96 MB)
in the spool, one sweep: repair, encrypt (AES-GCM), fsync, decrypt-verify, row, remove.

    cd /work/main && PYTHONPATH=. .venv/bin/python bench/archive.py [--count 200] [--seconds 60]"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import time

import numpy as np
import soundfile as sf

from bench.recordings_common import fresh, peak_rss_mib, report
from pbx.domain.recording import new_spool_name
from pbx.recordings.archive import Archiver


def spool_recordings(spool, tenant_id: int, count: int, seconds: float) -> int:
    spool.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(8000 * seconds)) / 8000
    first = spool / f"{new_spool_name(tenant_id, '101', '102').stem}.wav"
    sf.write(str(first), 0.3 * np.sin(2 * np.pi * 440 * t), 8000, subtype="PCM_16")
    for _ in range(count - 1):
        shutil.copyfile(first, spool / f"{new_spool_name(tenant_id, '101', '102').stem}.wav")
    return first.stat().st_size


async def main(count: int, seconds: float) -> None:
    async with fresh() as (settings, database, store, tenant_id):
        size = spool_recordings(settings.recording_spool_dir, tenant_id, count, seconds)
        archiver = Archiver(database, store, settings.recording_spool_dir)
        started = time.perf_counter()
        done = await archiver.sweep(set(), 0.0, time.time() + 60)
        elapsed = time.perf_counter() - started
        assert done == count, done
        report(f"archived {count} recordings of {seconds:.0f} s ({size / 1e6:.2f} MB each) in {elapsed:.2f} s: "
               f"{count / elapsed:.1f} recordings/s, {count * size / 1e6 / elapsed:.1f} MB/s "
               f"(each read twice, written once, fsynced); peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.seconds))
