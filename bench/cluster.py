"""Calls per second through Kamailio with 1, 2 and 3 Asterisk nodes, and node-loss recovery.

    PYTHONPATH=. .venv/bin/python bench/cluster.py [--seconds 20] [--kills 20] [--pairs 2]

Each run brings a real cluster up on this machine (pbx/cluster/: PostgreSQL, Kamailio, N
nodes in network namespaces, each node with its own control plane), puts 2 x --pairs pjsua2
phones on it (auto-answering callees), and for --seconds keeps --pairs calls in flight: dial,
answered (200 OK, CONFIRMED), hang up at once. A completed call is one the callee answered.
Everything - Kamailio, PostgreSQL, N Asterisks, N control planes and the phones generating
the load - shares this machine's 2 cores with other work, so the figure is the cluster's
throughput on 2 cores, not a node's: more nodes add processes competing for the same cores.

Recovery (3 nodes): --kills times, kill -9 the node (Asterisk and control plane) holding a
chosen caller's registration, then place a call from that caller at once and repeat until one
is answered; recovery = kill to answer. Kamailio's detection (dispatcher state 'inactive') is
timed too. The node is revived between kills. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from tests.support.calls import wait_for
from tests.support.cluster import registered_on, start_cluster
from tests.support.phone import Phones


def phones_on(cluster, operator, phones: Phones, pairs: int, tag: str):
    tenant = operator.ok("POST", "/tenants", {"name": f"Bench {tag}", "plan": "enterprise"})
    host, port = cluster.proxy.rsplit(":", 1)
    made = []
    for k in range(2 * pairs):
        ext = operator.ok("POST", f"/tenants/{tenant['id']}/extensions", {"number": f"{500 + k}", "name": f"B{k}"})
        made.append((f"{500 + k}", ext["sip"]["username"], phones.add_phone(
            ext["sip"]["username"], ext["sip"]["password"], domain=host, port=int(port), bind_address=host,
            auto_answer=k % 2 == 1)))
    for *_, phone in made:
        assert phone.wait_registered(timeout=30) == 200
    return made


def calls_per_second(made, seconds: float) -> tuple[int, int]:
    pairs = [(made[i], made[i + 1]) for i in range(0, len(made), 2)]
    done = failed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        calls = [(caller[2].call(callee[0]), callee) for caller, callee in pairs]
        for call, _ in calls:
            try:
                call.wait_confirmed(timeout=10)
                done += 1
            except Exception:
                failed += 1
            call.hangup()
        for call, _ in calls:
            try:
                call.wait_disconnected(timeout=10)
            except Exception:
                pass
    return done, failed


def recovery(cluster, made, kills: int) -> tuple[list[float], list[float]]:
    caller, callee = made[0], made[1]
    answered, detected = [], []
    for _ in range(kills):
        where = wait_for(lambda: registered_on(cluster).get(caller[1]), timeout=30)
        victim = where if where else 2
        killed_at = time.monotonic()
        cluster.kill(victim)
        while True:
            call = caller[2].call(callee[0])
            try:
                call.wait_confirmed(timeout=15)
                answered.append(time.monotonic() - killed_at)
                call.hangup()
                call.wait_disconnected(timeout=10)
                break
            except Exception:
                call.hangup()
        wait_for(lambda: cluster.states()[victim] == "inactive", timeout=10, interval=0.05)
        detected.append(time.monotonic() - killed_at)
        cluster.revive(victim)
        caller[2].reregister()  # back onto its own node, for the next kill
        time.sleep(1)
    return answered, detected


def pg_counters(cluster) -> dict[str, int]:
    """PostgreSQL's own counters for the product's database (pg_stat_database)."""
    from pbx.cluster.postgres import _bin

    out = subprocess.run([_bin("psql"), "-h", cluster.postgres.host, "-p", str(cluster.postgres.port), "-U", "postgres", "-At",
                          "-c", "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database"
                                " WHERE datname = 'pbx'"], capture_output=True, text=True, check=True).stdout
    values = [int(v) for v in out.strip().split("|")]
    return dict(zip(("commits", "inserted", "updated", "deleted"), values))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=2)  # pjsua2 here: 4 calls at once (2 legs each)
    args = parser.parse_args()
    with Phones() as phones:
        for count in (1, 2, 3):
            cluster, operator = start_cluster(count)
            try:
                made = phones_on(cluster, operator, phones, args.pairs, str(count))
                calls_per_second(made, 3)  # warm-up
                time.sleep(3)  # call records of the warm-up stored
                before = pg_counters(cluster)
                done, failed = calls_per_second(made, args.seconds)
                time.sleep(3)
                after = pg_counters(cluster)
                per_call = {k: round((after[k] - before[k]) / max(done, 1), 1) for k in after}
                print(f"nodes={count} completed={done} failed={failed} calls/s={done / args.seconds:.1f} "
                      f"postgres per call: {per_call}", flush=True)
                if count == 3 and args.kills:
                    answered, detected = recovery(cluster, made, args.kills)
                    for name, values in (("kill->answered", answered), ("kill->inactive", detected)):
                        print(f"{name} over {len(values)} kills: median {statistics.median(values):.2f} s, "
                              f"p90 {pct(values, 90):.2f} s, max {max(values):.2f} s", flush=True)
                for *_, phone in made:
                    phone.remove()
            finally:
                cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
