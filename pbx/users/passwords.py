"""Passwords as argon2id hashes (argon2-cffi, its RFC 9106 low-memory profile's defaults).
Hashing costs ~64 MiB and tens of milliseconds of CPU, so it runs in a thread, at most
two at once: sign-in attempts cannot stall the event loop (calls are routed on it)
nor exhaust memory."""
from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

AT_ONCE = 2


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()  # argon2id by default
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
