"""Asterisk start-up against N realtime extensions: start to fully booted, and to the first REGISTER.

    PYTHONPATH=. .venv/bin/python bench/asterisk_boot.py [--extensions 0 10000 100000]

For each N: a fresh SQLite database with N extensions' realtime rows (written as the
product writes them, pbx/asterisk/endpoints.py), Asterisk from the cached Debian root on
its own ports (shifted by PBX_TEST_PORT_OFFSET). Times, from Popen: the AMI port open,
FullyBooted (pbx/asterisk/runner.py's readiness), and a pjsua2 phone's first REGISTER 200
for one of the N. Counts the lines Asterisk logged. Prints figures; asserts nothing.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from bench.common import bench_parser, bench_run, clock, machine, print_machine
from bench.prefill import PASSWORD, prefill, sqlite_path
from pbx.asterisk.runner import AsteriskProcess
from pbx.db.migrate import upgrade
from tests.support.phone import Phones
from tests.support.stack import stack_settings

_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
PORTS = {"api_port": 38180 + _OFFSET, "sip_port": 35160 + _OFFSET, "ami_port": 35138 + _OFFSET,
         "agi_port": 34673 + _OFFSET, "rtp_start": 40100 + _OFFSET, "rtp_end": 40199 + _OFFSET}


def _tenants(database: Path, count: int) -> None:
    with sqlite3.connect(database) as db:
        db.executemany("INSERT INTO tenants (id, name, plan, extra_extensions, international_calls, created_at, "
                       "record_calls, recording_notice) VALUES (?, ?, 'enterprise', 0, 0, '2026-12-01', 0, 1)",
                       ((t, f"T{t}") for t in range(1, count + 1)))


def boot(tmp: Path, count: int) -> dict:
    settings = stack_settings(tmp, "", PORTS).with_secret()
    upgrade(settings.effective_database_url)
    tenants = max(1, count // 1000)  # as the registration bench: 1,000 a tenant
    _tenants(sqlite_path(settings.effective_database_url), tenants)
    sip_ids = prefill(sqlite_path(settings.effective_database_url), list(range(1, tenants + 1)), count // tenants,
                      settings.sip_realm) if count else []
    asterisk = AsteriskProcess(settings)
    started = clock()
    asterisk.start(timeout=600)
    ami_open = clock() - started
    asterisk.wait_fully_booted(timeout=600)  # `core waitfullybooted`: what FullyBooted says over AMI
    booted = clock() - started
    registered = None
    if sip_ids:
        phones = Phones()
        try:
            phone = phones.add_phone(sip_ids[len(sip_ids) // 2], PASSWORD, port=settings.sip_port)
            code = phone.wait_registered(timeout=60)
            registered = clock() - started if code == 200 else None
            phone.remove()
        finally:
            phones.close()
    log = (settings.asterisk_instance_dir / "log" / "messages.log").read_text(errors="replace").splitlines()
    info = machine(asterisk)
    asterisk.stop()
    return {"n": count, "ami": ami_open, "booted": booted, "registered": registered, "log_lines": len(log),
            "errors": sum(" ERROR[" in line or " WARNING[" in line for line in log), "machine": info,
            "sample": [line for line in log if " ERROR[" in line or " WARNING[" in line][:3]}


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--extensions", type=int, nargs="+", default=[0, 10_000, 100_000])
    args = parser.parse_args()
    results = []
    for count in args.extensions:
        with bench_run(f"pbx-boot-{count}-", args.keep) as tmp:
            results.append(boot(tmp, count))
            r = results[-1]
            print(f"  {count:>7} extensions: AMI open {r['ami']:.1f} s, fully booted {r['booted']:.1f} s, "
                  f"first REGISTER {r['registered'] and round(r['registered'], 1)} s, "
                  f"{r['log_lines']} log lines ({r['errors']} warnings/errors) {r['sample']}", flush=True)
    print("-" * 100)
    print_machine(results[-1]["machine"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
