"""What a panel sign-in costs: argon2id (OWASP's cost, as pbx/users/passwords.py
sets it) to hash and to verify, and how long the event loop (which also routes calls)
is kept from running while 20 sign-ins are checked at once (they run in threads, two at a
time). In-process, no stack. Run: PYTHONPATH=. .venv/bin/python bench/sign_in.py"""
from __future__ import annotations

import asyncio
import statistics
import time

from argon2 import PasswordHasher

from pbx.users.passwords import Passwords

ROUNDS, AT_ONCE = 20, 20


async def timed(coro_factory, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await coro_factory()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def loop_lag_during(work) -> tuple[float, float]:
    """The largest delay of a 5 ms ticker while `work` runs, and how long the work took."""
    lags, done = [], asyncio.Event()

    async def ticker():
        while not done.is_set():
            expected = time.perf_counter() + 0.005
            await asyncio.sleep(0.005)
            lags.append(max(0.0, time.perf_counter() - expected) * 1000)

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    await work
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    return max(lags), elapsed


async def costs(name: str, passwords: Passwords) -> str:
    stored = await passwords.hash("Şifre-güçlü-2026")
    hashing = await timed(lambda: passwords.hash("Şifre-güçlü-2026"), ROUNDS)
    verifying = await timed(lambda: passwords.verify(stored, "yanlış-parola"), ROUNDS)
    return (f"{name}: hash median {statistics.median(hashing):.1f} ms (max {max(hashing):.1f}), "
            f"verify median {statistics.median(verifying):.1f} ms (max {max(verifying):.1f}), {ROUNDS} rounds")


async def main() -> None:
    passwords = Passwords()
    print(await costs("ours (19 MiB, t=2, p=1)", passwords))
    print(await costs("argon2-cffi default (64 MiB, t=3, p=4)", Passwords(PasswordHasher())))
    stored = await passwords.hash("Şifre-güçlü-2026")
    lag, elapsed = await loop_lag_during(asyncio.gather(*(passwords.verify(stored, f"x{i}") for i in range(AT_ONCE))))
    idle_lag, _ = await loop_lag_during(asyncio.sleep(elapsed))  # the machine's own noise, for comparison
    print(f"{AT_ONCE} verifications at once (ours): {elapsed:.2f} s ({AT_ONCE / elapsed:.1f}/s); "
          f"largest event-loop delay meanwhile {lag:.1f} ms (doing nothing for as long: {idle_lag:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
