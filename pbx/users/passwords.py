"""Passwords as argon2id hashes (argon2-cffi). The cost is OWASP's recommended argon2id
setting (19 MiB, 2 passes, 1 lane) rather than the library's default (64 MiB, 3 passes,
4 lanes): on the 2-core machines this runs on, 4 lanes buy no parallelism and the
default took 1.6 s per hash under load (bench/sign_in.py). Hashing runs in a thread, at
most two at once: sign-in attempts cannot stall the event loop (calls are routed on it)
nor exhaust memory. A stored hash names its own cost, so a change here rehashes each
password at its next sign-in."""
from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

AT_ONCE = 2
COST = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}  # memory in KiB


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher(**COST)  # argon2id by default
        self._slots = asyncio.Semaphore(AT_ONCE)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """False for a wrong password. With no stored hash (no such user) a dummy one is
        checked all the same, so the answer takes as long and names no account."""
        if stored is None:
            stored = self._dummy = self._dummy or await self.hash("no such user")
        async with self._slots:
            return await asyncio.to_thread(self._check, stored, password)

    def needs_rehash(self, stored: str) -> bool:
        """After a cost change: the next successful sign-in stores a hash at the new cost."""
        return self._hasher.check_needs_rehash(stored)

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
