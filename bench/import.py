"""Bulk import: rows per second from the upload until every extension is live in Asterisk.

    PYTHONPATH=. .venv/bin/python bench/import.py                   # 10,000 rows, one tenant
    PYTHONPATH=. .venv/bin/python bench/import.py --rows 2000 --batch 250

One real stack (Asterisk + control plane, SQLite) on the bench ports shifted by
PBX_TEST_PORT_OFFSET. One Enterprise tenant; one CSV upload (`POST .../extensions/import`);
the job is polled every 50 ms until it has succeeded; then Asterisk is asked for the last
row's endpoint (`pjsip show endpoint`, read from its realtime tables on demand) until it
answers: that is "every one live" (rows commit in id order). Afterwards, untimed, 20 sampled
endpoints must be shown by Asterisk, and the full listing (`pjsip show endpoints`) is counted
(under load the remote console sometimes prints nothing for 10,000 endpoints: a hint only). Figures: rows/s to `succeeded`
and to live, the result download, the control plane's CPU seconds. Target: >= 500 rows/s."""
from __future__ import annotations

import csv
import io
import os
import random
import re
import sys
import time
from dataclasses import replace

import requests

from bench.common import bench_parser, bench_run, clock, cpu_seconds, machine, print_machine, start_stack
from tests.support import stack as stack_module

_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
PORTS = {"api_port": 38080 + _OFFSET, "sip_port": 35060 + _OFFSET, "ami_port": 35038 + _OFFSET,
         "agi_port": 34573 + _OFFSET, "rtp_start": 40000 + 10 * _OFFSET, "rtp_end": 40099 + 10 * _OFFSET}
TARGET = 500.0


def upload(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("number", "name", "email", "voicemail"))
    for i in range(rows):
        writer.writerow((str(100000 + i), f"Çalışan Şükrü {i}", f"k{i}@ornek.com.tr", "yes" if i % 3 else "no"))
    return out.getvalue().encode()


def wait_succeeded(api, job_id: int) -> dict:
    while True:
        job = api.ok("GET", f"/jobs/{job_id}")
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)


def live_in_asterisk(stack, sip_ids: set[str]) -> int:
    listing = stack.asterisk.cli("pjsip show endpoints", timeout=300)
    return len({n for n in re.findall(r"Endpoint:\s+(\S+?)(?:/\S*)?\s", listing)} & sip_ids)


def run(args) -> None:
    with bench_run("pbx-bench-import-", args.keep) as tmp:
        settings = replace(stack_module.stack_settings(tmp, ports=PORTS), job_batch_rows=args.batch)
        stack_module.stack_settings = lambda *a, **kw: settings  # the bench's batch size, on its ports
        stack = start_stack(tmp, PORTS)
        print_machine(machine(stack.asterisk))
        tenant = stack.operator.ok("POST", "/tenants", {"name": "Büyük Holding", "plan": "enterprise"})
        body = upload(args.rows)
        cpu0, t0 = cpu_seconds(stack.control.process.pid), clock()
        response = stack.operator.request("POST", f"/tenants/{tenant['id']}/extensions/import", data=body,
                                          headers={"Content-Type": "text/csv"})
        assert response.status_code == 202, response.text
        t_accepted = clock()
        job = wait_succeeded(stack.operator, response.json()["job"]["id"])
        t_done, cpu1 = clock(), cpu_seconds(stack.control.process.pid)
        assert (job["status"], job["done"]) == ("succeeded", args.rows), job
        last = stack.sql("SELECT sip_username FROM extensions WHERE tenant_id = :t ORDER BY id DESC LIMIT 1",
                         t=tenant["id"])[0][0]
        while f"Endpoint:  {last}" not in stack.asterisk.cli(f"pjsip show endpoint {last}"):
            time.sleep(0.01)  # realtime: Asterisk reads the committed row on demand
        t_live = clock()
        t_result = clock()
        result = stack.operator.get(f"/jobs/{job['id']}/result")
        t_result = clock() - t_result
        sip_ids = {row["sip_username"] for row in csv.DictReader(io.StringIO(result.content.decode("utf-8-sig")))}
        report(args, t0, t_accepted, t_done, t_live, t_result, cpu1 - cpu0, len(body))
        sample = random.Random(1).sample(sorted(sip_ids), min(20, len(sip_ids)))
        missing = [s for s in sample if f"Endpoint:  {s}" not in stack.asterisk.cli(f"pjsip show endpoint {s}")]
        print(f"  check: {len(sample) - len(missing)} of {len(sample)} sampled endpoints shown by Asterisk")
        t_listing = clock()
        live = live_in_asterisk(stack, sip_ids)  # a remote console under load may print nothing: a hint only
        print(f"  check: pjsip show endpoints lists {live} of {args.rows} ({clock() - t_listing:.1f} s)")
        assert not missing, f"Asterisk does not know {missing}"


def report(args, t0, t_accepted, t_done, t_live, t_result, cpu, size) -> None:
    print(f"Import of {args.rows} extensions into one tenant, batches of {args.batch} "
          f"({size / 1e6:.1f} MB CSV)")
    print(f"  upload answered 202 after        {1000 * (t_accepted - t0):9.0f} ms")
    print(f"  job succeeded after              {t_done - t0:9.2f} s   {args.rows / (t_done - t0):8.0f} rows/s")
    print(f"  last row live in Asterisk after  {t_live - t0:9.2f} s   {args.rows / (t_live - t0):8.0f} rows/s"
          "  [headline]")
    print(f"  result CSV download              {1000 * t_result:9.0f} ms")
    print(f"  control plane CPU, upload->done  {cpu:9.2f} s   ({args.rows / max(cpu, 1e-9):.0f} rows per CPU s)")
    rate = args.rows / (t_live - t0)
    print(f"  target >= {TARGET:.0f} rows/s to live: {'MET' if rate >= TARGET else 'MISSED'}")
    print(f"  load average now: {os.getloadavg()}")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="rows per transaction (PBX_JOB_BATCH_ROWS)")
    run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
