"""SIPp as the cluster benches' load generator (bench/sipp/*.xml), run in a network namespace
of its own on the cluster's bridge (every port it opens is private to it), and the CPU time
of each process of the cluster, read from /proc, to say which one is the limit."""
from __future__ import annotations

import csv
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "sipp"
TICKS = os.sysconf("SC_CLK_TCK")
# sipp 3.6 takes digest credentials only from the command line (its [authentication] keyword
# does not nest [fieldN]): the bench gives every endpoint this one auth (shared_auth_sql).
SHARED_AUTH = ("bench", "bench")


def shared_auth_sql(sip_ids: list[str]) -> str:
    """The same digest work per request as each endpoint's own md5 credential."""
    user, password = SHARED_AUTH
    ids = ",".join(f"'{sip_id}'" for sip_id in sip_ids if sip_id.replace("-", "").isalnum())
    return (f"INSERT INTO ps_auths (id, auth_type, username, md5_cred, realm) VALUES "
            f"('bench-shared', 'md5', '{user}', md5('{user}:pbx:{password}'), 'pbx'); "
            f"UPDATE ps_endpoints SET auth = 'bench-shared' WHERE id IN ({ids});")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) "


def descendants(root: int) -> list[int]:
    """root and every process below it (threads are counted in their process's stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    total = 0
    for pid in descendants(root):
        if fields := _stat(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


class CpuMeter:
    """CPU seconds of named process trees between start() and stop(), as % of one core."""

    def __init__(self, roots: dict[str, int]):
        self.roots = roots

    def start(self) -> None:
        self.t0, self.machine0 = time.monotonic(), machine_ticks()
        self.before = {name: cpu_seconds(pid) for name, pid in self.roots.items()}

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.t0
        used = {name: round(100 * (cpu_seconds(pid) - self.before[name]) / elapsed, 1)
                for name, pid in self.roots.items()}
        (busy0, total0), (busy1, total1) = self.machine0, machine_ticks()
        used["machine"] = round(100 * os.cpu_count() * (busy1 - busy0) / max(total1 - total0, 1), 1)
        return used


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine, every engineer's work included (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def cluster_roots(cluster) -> dict[str, int]:
    roots = {"kamailio": cluster.kamailio.process.pid,
             "postgres": int((cluster.postgres.data / "postmaster.pid").read_text().split()[0])}
    for index, node in cluster.nodes.items():
        roots[f"asterisk{index}"] = node.asterisk.process.pid
        roots[f"control{index}"] = node.control.pid
    return roots


@dataclass
class Sipp:
    """sipp in namespace `netns` at `address`, aimed at Kamailio (`proxy` host:port)."""
    netns: str
    address: str
    proxy: str
    workdir: Path

    def users_file(self, sip_ids: list[str]) -> Path:
        path = self.workdir / "users.csv"
        path.write_text("SEQUENTIAL\n" + "".join(f"{sip_id};\n" for sip_id in sip_ids))
        return path

    def start(self, scenario: str, users: Path, *options: str) -> subprocess.Popen:
        stats = self.workdir / f"{scenario}.stats.csv"
        stats.unlink(missing_ok=True)
        command = ["ip", "netns", "exec", self.netns, "sipp", self.proxy, "-sf", str(SCENARIOS / f"{scenario}.xml"),
                   "-inf", str(users), "-au", SHARED_AUTH[0], "-ap", SHARED_AUTH[1], "-i", self.address, "-p", "5060", "-mi", self.address, "-mp", "30000",
                   "-aa", "-nostdin", "-trace_stat", "-stf", str(stats), "-fd", "1", "-recv_timeout", "10000",
                   "-timeout_error", *options]
        out = open(self.workdir / f"{scenario}.out", "wb")
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.workdir)

    def run(self, scenario: str, users: Path, *options: str, meter: CpuMeter | None = None) -> dict:
        process = self.start(scenario, users, *options)
        if meter:
            meter.start()
        sipp_cpu = 0.0
        while process.poll() is None:  # its own CPU, read while it lives (/proc forgets it after)
            sipp_cpu = cpu_seconds(process.pid) or sipp_cpu
            time.sleep(0.5)
        result = self.totals(scenario)
        if meter:
            result["cpu"] = meter.stop() | {"sipp": round(100 * sipp_cpu / max(result["elapsed"], 1e-9), 1)}
        return result

    def totals(self, scenario: str) -> dict:
        """The last (cumulative) line of sipp's statistics file."""
        with open(self.workdir / f"{scenario}.stats.csv") as stats:
            rows = list(csv.DictReader(stats, delimiter=";"))
        last = rows[-1]
        elapsed = _seconds(last["ElapsedTime(C)"])
        return {"elapsed": elapsed, "ok": int(last["SuccessfulCall(C)"]), "failed": int(last["FailedCall(C)"]),
                "current": int(last["CurrentCall"]), "rtd_ms": _seconds(last["ResponseTime1(C)"]) * 1000,
                "rate": int(last["SuccessfulCall(C)"]) / max(elapsed, 1e-9)}


def _seconds(text: str) -> float:
    """sipp's 'HH:MM:SS:uuuuuu' (or 'HH:MM:SS:mmm') as seconds."""
    parts = text.strip().split(":")
    fraction = parts[3] if len(parts) > 3 else "0"
    return int(parts[0]) * 3600 + int(parts[1]) * 60 + int(parts[2]) + int(fraction) / 10 ** len(fraction)


def channel_stats(cli_output: str) -> tuple[int, float, float]:
    """`pjsip show channelstats`: (channels, packets lost of all received %, the worst receive
    jitter as Asterisk prints it), over the RTP the callers sent."""
    rows = re.findall(r"\s(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+\d+\s+\d+\s+\d+\s+[\d.]+", cli_output)
    received = sum(int(count) for count, *_ in rows)
    lost = sum(int(lost) for _, lost, *_ in rows)
    jitter = max((float(jit) for *_, jit in rows), default=0.0)
    return len(rows), round(100 * lost / max(received + lost, 1), 2), jitter
