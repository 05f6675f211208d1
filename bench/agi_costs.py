"""Where bench/agi_latency.py's decisions spend their time: a py-spy profile of the
control plane under load, and in this process a routing snapshot rebuild and one
decision, also at a larger scale in a database filled directly."""
from __future__ import annotations

import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.agi_sessions import measure, report_run
from bench.common import clock
# ---- profile ---------------------------------------------------------------------------------
def profile(control_pid: int, run_factory, out: Path) -> None:
    """py-spy samples the control plane during one more run of `run_factory` (the closed
    loop's own driver: the C client where it was built, so the client costs the machine
    little)."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("  py-spy is not installed (pip install py-spy into the venv); no profile")
        return
    raw = out / "control-plane.collapsed"
    spy = subprocess.Popen([py_spy, "record", "--pid", str(control_pid), "--rate", "250", "--format", "raw",
                            "--output", str(raw), "--nonblocking", "--gil"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        run = measure(control_pid, run_factory)
        report_run(run)
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    if raw.exists():
        summarise_profile(raw)


LAYERS = (  # a sample goes to the first layer any of whose markers is in its stack
    ("database access (SQLAlchemy async session + ORM, aiosqlite)", ("sqlalchemy/", "aiosqlite/", "greenlet")),
    ("routing (snapshot rebuilds, handlers, pure routing)",
     ("pbx/agi/handlers", "pbx/services/", "pbx/routing/", "pbx/domain/", "pydantic")),
    ("FastAGI protocol (headers, variable round trips)", ("parse_headers (", "data_received (", "apply (", "set_variable",
                                                             "panoramisk/")),
    ("event loop, sockets (accept, schedule, write, close)", ("",)),
)


def summarise_profile(raw: Path) -> None:
    """Collapsed stacks (one line per stack, frames ';'-joined, then a count). SQLAlchemy runs its
    sync core in greenlets, whose frames py-spy shows as separate stacks, so samples are classed
    by what their stack contains rather than by the session step above them."""
    layers: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        count = int(count)
        total += count
        leaves[stack.split(";")[-1]] += count
        for name, markers in LAYERS:
            if any(m in stack for m in markers):
                layers[name] += count
                break
    if not total:
        print("  profile: no samples")
        return
    print(f"  py-spy --gil (samples the thread holding the GIL), {total} samples:")
    for name, _ in LAYERS:
        print(f"    {layers[name] / total:6.1%}  {name}")
    print("  top self time:")
    for frame, n in leaves.most_common(6):
        print(f"    {n / total:6.1%}  {frame[:100]}")


# ---- in-process costs of the snapshot and of one decision ---------------------------------------
def snapshot_costs(database_url: str, trunk_id: str, dids: list[str], n: int = 20000) -> None:
    """In this process, against the same database: what a full snapshot rebuild costs, and one
    inbound decision from it (pbx.routing.decisions.from_trunk), one at a time."""
    from datetime import datetime, timezone

    from pbx.db.engine import make_engine, make_sessionmaker
    from pbx.db.unit import Database
    from pbx.routing import decisions
    from pbx.services.routing_snapshot import load

    async def run() -> tuple[float, float, float]:
        engine = make_engine(database_url)
        database = Database(make_sessionmaker(engine))
        snap = await load(database)  # warm-up
        costs = []
        for previous in (None, snap):  # from nothing; then reusing every (unchanged) tenant
            wall, cpu = clock(), time.process_time()
            for _ in range(10):
                await load(database, previous)
            costs.append(((clock() - wall) / 10 * 1000, (time.process_time() - cpu) / 10 * 1000))
        await engine.dispose()
        now = datetime.now(timezone.utc)
        cpu = time.process_time()
        for i in range(n):
            decisions.from_trunk(snap, trunk_id, dids[i % len(dids)], now)
        return costs, (time.process_time() - cpu) / n

    (full, same), decide = asyncio.run(run())
    print(f"  snapshot rebuild (8 bulk reads + build): full wall {full[0]:.1f} ms, CPU {full[1]:.1f} ms; "
          f"tenants unchanged wall {same[0]:.1f} ms, CPU {same[1]:.1f} ms (all threads); "
          f"one inbound decision from it: {decide * 1e6:.1f} us CPU")


def snapshot_scale(extensions: int, per_tenant: int = 20) -> None:
    """A full rebuild at `extensions` extensions (tenants of `per_tenant`, each with a prompt,
    an IVR, a ring group and three numbers), rows inserted straight into a fresh database."""
    import sqlalchemy as sa

    from pbx.db.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="pbx-bench-snapshot-"))
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'scale.sqlite3'}"
        upgrade(url)
        engine = sa.create_engine(f"sqlite:///{tmp / 'scale.sqlite3'}")
        with engine.begin() as conn:
            _fill(conn, extensions // per_tenant, per_tenant)
        engine.dispose()
        print(f"  at {extensions} extensions ({extensions // per_tenant} tenants):", end="")
        snapshot_costs(url, "trunk-0", [f"+9085{t:06d}{k:02d}" for t in (1, 2) for k in range(3)], n=1000)  # as _fill
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fill(conn, tenants: int, per_tenant: int) -> None:
    import json

    import sqlalchemy as sa

    x = conn.exec_driver_sql
    x("INSERT INTO trunks (id, name, host, port, match, default_outbound, sip_id, created_at) "
      "VALUES (1, 'c', 'h', 5060, '[]', 1, 'trunk-0', '2026-01-01')")
    for t in range(1, tenants + 1):
        x(f"INSERT INTO tenants (id, name, plan, extra_extensions, international_calls, record_calls, "
          f"recording_notice, created_at) VALUES ({t}, 't', 'kobi', 0, 0, 0, 1, '2026-01-01')")
        x("INSERT INTO prompts (id, tenant_id, name, file_id, duration_ms, source_format, created_at) "
          f"VALUES ({t}, {t}, 'p', 'f{t}', 500, 'wav', '2026-01-01')")
        conn.execute(sa.text(
            "INSERT INTO extensions (tenant_id, number, name, voicemail, record_calls, sip_username, created_at) "
            "VALUES (:t, :n, 'e', 1, 0, :s, '2026-01-01')"),
            [{"t": t, "n": str(100 + i), "s": f"{t}-{i}"} for i in range(per_tenant)])
        dest = json.dumps({"type": "extension", "extension": "100"})
        x("INSERT INTO ring_groups (id, tenant_id, name, extensions, strategy, ring_seconds, next_destination, "
          f"created_at) VALUES ({t}, {t}, 'g', '[\"100\", \"101\", \"102\"]', 'all', 20, NULL, '2026-01-01')")
        x("INSERT INTO ivrs (id, tenant_id, name, greeting_prompt_id, options, timeout_seconds, max_attempts, "
          f"timeout_destination, created_at) VALUES ({t}, {t}, 'i', {t}, '{{\"1\": {dest}}}', 5, 3, NULL, "
          "'2026-01-01')")
        for k, d in enumerate((dest, json.dumps({"type": "ring_group", "ring_group_id": t}),
                               json.dumps({"type": "ivr", "ivr_id": t}))):
            x(f"INSERT INTO numbers (tenant_id, number, destination, created_at) VALUES ({t}, "
              f"'+9085{t:06d}{k:02d}', '{d}', '2026-01-01')")
