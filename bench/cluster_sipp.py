"""Calls, registrations and calls with media through Kamailio, driven by SIPp.

    PBX_TEST_PORT_OFFSET=600 PYTHONPATH=. .venv/bin/python bench/cluster_sipp.py \
        [--nodes 1,2,3] [--seconds 15] [--in-flight 40] [--extensions 2000] \
        [--register-rates 50,100,200,400] [--media 20,50,100,150] [--hold 20]

For each node count a real cluster comes up (pbx/cluster/: PostgreSQL, Kamailio, N Asterisk
nodes in network namespaces, a control plane per node). One tenant gets --extensions
extensions (one CSV import job; the result file gives their SIP passwords) and a public
number whose destination is a 60 s announcement: a number every node answers itself. SIPp
runs in a namespace of its own on the cluster's bridge (bench/sipp_load.py), each call or
REGISTER from the next extension in turn, so the dispatcher's hash spreads them over the nodes.

- calls (every node count): --in-flight calls at once for --seconds, each INVITE, 401,
  INVITE with the digest answer, 200, ACK, BYE at once (bench/sipp/call.xml): calls/s.
- registrations (largest node count): REGISTER, 401, REGISTER, 200 at each rate of
  --register-rates for --seconds (bench/sipp/register.xml): registrations/s and CPU.
- media (one node): N calls held up for --hold s, each sending RTP (PCMU, 50 packets/s) and
  receiving the announcement's (bench/sipp/call-media.xml); the node's CPU and the worst
  receive loss and jitter Asterisk measures (`pjsip show channelstats`), for each N of --media.

CPU is each process tree's own (/proc), as % of one core: which one is the limit. Prints
figures with the load average; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

from bench.sipp_load import CpuMeter, Sipp, channel_stats, cluster_roots, shared_auth_sql
from tests.support.calls import wait_for
from tests.support.cluster import start_cluster

NUMBER, DIALLED = "0850 555 09 98", "08505550998"
LOADGEN = 9  # the load generator's namespace index on the cluster's bridge (nodes are 1..N)


def tone_wav(seconds: float, freq: float = 440.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / 8000)))
                               for i in range(int(8000 * seconds))))
    return out.getvalue()


def ulaw_stream(path: Path, seconds: float = 10.0) -> Path:
    """What the callers send: a tone as raw PCMU, looped by sipp's rtp_stream."""
    import audioop  # deprecated, present in 3.11-3.12: this bench's only need for it

    pcm = tone_wav(seconds, 700.0)[44:]
    path.write_bytes(audioop.lin2ulaw(pcm, 2))
    return path


def psql(cluster, sql: str) -> str:
    from pbx.cluster.postgres import _bin

    return subprocess.run([_bin("psql"), "-h", cluster.postgres.host, "-p", str(cluster.postgres.port), "-U",
                           "postgres", "-d", "pbx", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def population(cluster, operator, count: int) -> list[str]:
    """A tenant with `count` extensions and the announcement number; returns their SIP ids."""
    tenant = operator.ok("POST", "/tenants", {"name": "Yük Testi A.Ş.", "plan": "enterprise"})
    base = f"/tenants/{tenant['id']}"
    # One tenant carries the whole load: its toll-fraud caps (200 calls at once) lifted.
    operator.ok("PATCH", base, {"max_concurrent_calls": 100_000, "max_call_attempts_per_minute": 10_000})
    prompt = operator.request("POST", f"{base}/prompts", files={"file": ("uzun.wav", tone_wav(60.0), "audio/wav")},
                              data={"name": "uzun"})
    assert prompt.status_code == 201, prompt.text
    operator.ok("POST", f"{base}/numbers", {"number": NUMBER,
                                            "destination": {"type": "announcement", "prompt_id": prompt.json()["id"]}})
    rows = "number,name\r\n" + "".join(f"{10000 + i},Yük {i}\r\n" for i in range(count))
    answer = operator.request("POST", f"{base}/extensions/import", data=rows.encode(),
                              headers={"Content-Type": "text/csv"})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job"]["id"]
    job = wait_for(lambda: (j := operator.ok("GET", f"/jobs/{job_id}"))["status"] not in ("queued", "running") and j,
                   timeout=600, interval=0.2)
    assert job["status"] == "succeeded", job
    result = operator.get(f"/jobs/{job_id}/result").content.decode("utf-8-sig")
    sip_ids = [row["sip_username"] for row in csv.DictReader(io.StringIO(result))]
    psql(cluster, shared_auth_sql(sip_ids))
    return sip_ids


def load_generator(cluster, workdir: Path) -> Sipp:
    netns = cluster.fabric.add_node(LOADGEN)  # removed with the cluster's other namespaces
    return Sipp(netns, cluster.fabric.node_address(LOADGEN), cluster.proxy, workdir)


def show(label: str, result: dict) -> None:
    cpu = " ".join(f"{k}={v}%" for k, v in sorted(result.pop("cpu", {}).items()))
    print(f"{label}: ok={result['ok']} failed={result['failed']} in {result['elapsed']:.1f} s "
          f"= {result['rate']:.1f}/s, mean response {result['rtd_ms']:.0f} ms; CPU {cpu}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)


def calls(cluster, sipp: Sipp, users: Path, args) -> None:
    options = ("-s", DIALLED, "-r", "1000", "-l", str(args.in_flight), "-d", "0", "-timeout", f"{args.seconds}s")
    sipp.run("call", users, "-s", DIALLED, "-r", "10", "-m", "20", "-d", "0")  # warm-up: caches, pools
    result = sipp.run("call", users, *options, meter=CpuMeter(cluster_roots(cluster)))
    show(f"calls nodes={len(cluster.nodes)} in-flight={args.in_flight}", result)


def registrations(cluster, sipp: Sipp, users: Path, args) -> None:
    for rate in args.register_rates:
        result = sipp.run("register", users, "-r", str(rate), "-m", str(int(rate * args.seconds)),
                          "-timeout", f"{args.seconds * 3}s", meter=CpuMeter(cluster_roots(cluster)))
        show(f"registrations nodes={len(cluster.nodes)} offered={rate}/s", result)


def media(cluster, sipp: Sipp, users: Path, args, workdir: Path) -> None:
    stream = ulaw_stream(workdir / "tone.ulaw")
    node = cluster.nodes[1].asterisk
    for count in args.media:
        wait_for(lambda: node.channel_count() == 0, timeout=90)  # the calls bench's last calls are gone
        process = sipp.start("call-media", users, "-s", DIALLED, "-r", "40", "-l", str(count), "-m", str(count),
                             "-d", str(args.hold * 1000),
                             "-timeout", f"{args.hold + 60}s")
        up = wait_for(lambda: node.channel_count() >= count, timeout=60, interval=0.5)
        time.sleep(2)  # every stream running
        meter = CpuMeter(cluster_roots(cluster) | {"sipp": process.pid})
        meter.start()
        time.sleep(min(10, args.hold / 2))
        cpu = meter.stop()
        channels, loss, jitter = channel_stats(node.cli("pjsip show channelstats"))
        process.wait()
        result = sipp.totals("call-media")
        print(f"media calls={count} all up={bool(up)} channels={channels} rx loss={loss}% "
              f"worst rx jitter={jitter}; asterisk1={cpu['asterisk1']}% kamailio={cpu['kamailio']}% "
              f"control1={cpu['control1']}% sipp={cpu['sipp']}% machine={cpu['machine']}%; calls ok={result['ok']} failed={result['failed']}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    numbers = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser.add_argument("--nodes", type=numbers, default=[1, 2, 3])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--in-flight", type=int, default=40)
    parser.add_argument("--extensions", type=int, default=2000)
    parser.add_argument("--register-rates", type=numbers, default=[50, 100, 200, 400])
    parser.add_argument("--media", type=numbers, default=[20, 50, 100, 150])
    parser.add_argument("--hold", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()}", flush=True)
    for count in args.nodes:
        cluster, operator = start_cluster(count)
        workdir = Path(tempfile.mkdtemp(prefix="pbx-sipp-"))
        try:
            sipp = load_generator(cluster, workdir)
            users = sipp.users_file(population(cluster, operator, args.extensions))
            calls(cluster, sipp, users, args)
            if count == max(args.nodes) and args.register_rates:
                registrations(cluster, sipp, users, args)
            if count == 1 and args.media:
                media(cluster, sipp, users, args, workdir)
        finally:
            cluster.close()
            shutil.rmtree(cluster.dir, ignore_errors=True)
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
