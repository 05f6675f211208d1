"""What the registrations' periodic sweep costs (PBX_REGISTRATION_RESYNC_SECONDS) with many phones
registered on the real Asterisk.

    PBX_TEST_PORT_OFFSET=... PYTHONPATH=. .venv/bin/python bench/registration_sweep.py [--phones 2000] [--passes 20]

1. The real product (Asterisk from the cached Debian root, the control plane as a subprocess,
   SQLite) on ports of its own; --phones extensions written straight into SQLite
   (bench/prefill.py), the control plane restarted to load them.
2. Every one of them registered for real: a REGISTER over UDP, its 401 digest challenge
   answered, 200 OK (expires 3600), --in-flight at a time, from one socket (pjsua2 holds 8
   accounts a process). The control plane raises extension.registered for each from the
   registrar's reports; the bench waits until extension_registrations holds them all.
3. --passes sweeps' comparison (RegistrationEvents._compare, what every pass does: one
   DBGetTree of astdb's registrar family, one query of this node's rows) timed in this process
   with its own AMI login, against the same Asterisk and database: wall time per pass, this
   process's CPU and Asterisk's CPU per pass, and how many AORs differed (0 expected).
Prints figures; asserts nothing about time. See bench/README.md.
"""
from __future__ import annotations

import asyncio
import cProfile
import hashlib
import os
import pstats
import re
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    bench_parser, bench_run, clock, cpu_seconds, machine, own_cpu, pct, print_machine, start_stack)
from bench.registration import prefilled  # noqa: E402
from pbx.asterisk.ami import Ami  # noqa: E402
from pbx.db.engine import make_engine, make_sessionmaker  # noqa: E402
from pbx.db.unit import Database  # noqa: E402
from pbx.eventing.registrations import RegistrationEvents  # noqa: E402

_OFFSET = int(os.environ.get("PBX_TEST_PORT_OFFSET", "0"))
BENCH_PORTS = {"api_port": 40000 + _OFFSET, "sip_port": 40001 + _OFFSET, "ami_port": 40002 + _OFFSET,
               "agi_port": 40003 + _OFFSET, "rtp_start": 40010 + _OFFSET, "rtp_end": 40099 + _OFFSET}
CLIENT_PORT = 40004 + _OFFSET
_CHALLENGE = re.compile(r'(\w+)="?([^",]*)"?')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Registrar(asyncio.DatagramProtocol):
    """A minimal UDP SIP client: REGISTER, answer the digest challenge, 200 OK."""

    def __init__(self, server: tuple[str, int]):
        self.server, self.waiting = server, {}  # Call-ID -> Future of the response text
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, _addr):
        text = data.decode(errors="replace")
        call_id = re.search(r"^Call-ID:\s*(\S+)", text, re.M | re.I)
        future = self.waiting.pop(call_id.group(1), None) if call_id else None
        if future is not None and not future.done() and not text.startswith("SIP/2.0 100"):
            future.set_result(text)

    async def _send(self, user: str, call_id: str, cseq: int, auth: str = "") -> str:
        host, port = self.server
        local = self.transport.get_extra_info("sockname")
        message = (f"REGISTER sip:{host}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {local[0]}:{local[1]};rport;branch=z9hG4bK{secrets.token_hex(8)}\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:{user}@{host}>;tag={secrets.token_hex(4)}\r\n"
                   f"To: <sip:{user}@{host}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                   f"Contact: <sip:{user}@{local[0]}:{local[1]}>\r\nExpires: 3600\r\n"
                   f"User-Agent: pbx-bench-sweep\r\n{auth}Content-Length: 0\r\n\r\n")
        future = asyncio.get_running_loop().create_future()
        self.waiting[call_id] = future
        self.transport.sendto(message.encode(), self.server)
        async with asyncio.timeout(10):
            return await future

    async def register(self, user: str, password: str) -> int:
        call_id = secrets.token_hex(12)
        answer = await self._send(user, call_id, 1)
        if answer.startswith("SIP/2.0 401"):
            header = re.search(r"^WWW-Authenticate:\s*Digest\s+(.*)$", answer, re.M | re.I).group(1)
            challenge = dict(_CHALLENGE.findall(header))
            uri = f"sip:{self.server[0]}:{self.server[1]}"
            ha1, ha2, cnonce = _md5(f"{user}:{challenge['realm']}:{password}"), _md5(f"REGISTER:{uri}"), "0a4f113b"
            response = _md5(f"{ha1}:{challenge['nonce']}:00000001:{cnonce}:auth:{ha2}")
            auth = (f'Authorization: Digest username="{user}", realm="{challenge["realm"]}", '
                    f'nonce="{challenge["nonce"]}", uri="{uri}", response="{response}", algorithm=MD5, '
                    f'qop=auth, nc=00000001, cnonce="{cnonce}"'
                    + (f', opaque="{challenge["opaque"]}"' if "opaque" in challenge else "") + "\r\n")
            answer = await self._send(user, call_id, 2, auth)
        return int(answer.split(" ", 2)[1])


async def register_all(settings, phones: list[dict], in_flight: int) -> dict[int, int]:
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        lambda: Registrar(("127.0.0.1", settings.sip_port)), local_addr=("127.0.0.1", CLIENT_PORT))
    gate, codes = asyncio.Semaphore(in_flight), {}

    async def one(phone):
        async with gate:
            try:
                code = await client.register(phone["sip"]["username"], phone["sip"]["password"])
            except TimeoutError:
                code = 0
            codes[code] = codes.get(code, 0) + 1

    try:
        await asyncio.gather(*(one(p) for p in phones))
    finally:
        transport.close()
    return codes


def registered_rows(stack) -> int:
    return stack.sql("SELECT count(*) FROM extension_registrations")[0][0]


async def sweep_passes(stack, passes: int, profile: bool) -> tuple[list[float], float, float, list[int]]:
    settings = stack.settings
    ami = Ami(settings)  # as the control plane's (the family read's own timeout: FAMILY_TIMEOUT_S)
    await ami.start()
    assert await ami.wait_connected(30), "no AMI login"
    engine = make_engine(settings.effective_database_url)
    watcher = RegistrationEvents(Database(make_sessionmaker(engine)), None, ami,
                                 node=f"{settings.ami_host}:{settings.ami_port}")  # the control plane's node
    walls, differing = [], []
    await watcher._compare()  # warm: the engine's first connection, imports
    profiler = cProfile.Profile() if profile else None
    asterisk_before, own_before = cpu_seconds(stack.asterisk.process.pid), own_cpu()
    try:
        for _ in range(passes):
            started = clock()
            profiler and profiler.enable()
            live, differ = await watcher._compare()
            profiler and profiler.disable()
            walls.append(clock() - started)
            differing.append(len(differ))
        contacts = sum(len(c) for c in live.values())
    finally:
        ami.close()
        await engine.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    asterisk_cpu = cpu_seconds(stack.asterisk.process.pid) - asterisk_before
    print(f"  last pass: {len(live)} AORs, {contacts} live contacts in astdb", flush=True)
    return walls, (own_cpu() - own_before) / passes, asterisk_cpu / passes, differing


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=20, help="REGISTER transactions at a time")
    parser.add_argument("--profile", action="store_true", help="where the passes' CPU goes (cProfile, by own time)")
    args = parser.parse_args()
    with bench_run("pbx-bench-sweep-", args.keep) as tmp:
        started = clock()
        stack = start_stack(tmp, BENCH_PORTS)
        print(f"stack up in {clock() - started:.1f} s (temp dir {tmp})", flush=True)
        tenant, _api = stack.new_tenant("enterprise")
        phones = prefilled(stack, [tenant["id"]], args.phones)
        started = clock()
        codes = asyncio.run(register_all(stack.settings, phones, args.in_flight))
        print(f"  {len(phones)} REGISTERs in {clock() - started:.1f} s: final status codes {codes}", flush=True)
        started = clock()
        while registered_rows(stack) < codes.get(200, 0) and clock() - started < 600:
            time.sleep(1)
        print(f"  extension_registrations: {registered_rows(stack)} rows after {clock() - started:.1f} s more",
              flush=True)
        walls, own, asterisk, differing = asyncio.run(sweep_passes(stack, args.passes, args.profile))
        info = machine(stack.asterisk)
        print_machine(info)
        print(f"sweep comparison with {codes.get(200, 0)} registered phones, {args.passes} passes:")
        print(f"  wall per pass   p50 {pct(walls, 50) * 1000:.1f} ms, max {max(walls) * 1000:.1f} ms")
        print(f"  CPU per pass    control-plane side {own * 1000:.1f} ms, Asterisk {asterisk * 1000:.1f} ms")
        print(f"  AORs differing  {sorted(set(differing))} (0: nothing to raise)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
