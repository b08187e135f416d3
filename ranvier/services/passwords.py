"""Password hashing with argon2id. Hashing is CPU-bound, so it runs in a thread and
does not stall the event loop. Passwords are never logged."""

from __future__ import annotations

import asyncio

import argon2

from ranvier.config import PasswordConfig


class PasswordHasher:
    def __init__(self, config: PasswordConfig) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=config.time_cost,
            memory_cost=config.memory_cost,
            parallelism=config.parallelism,
        )
        # Verified against when a user has no hash, so that "no such user" costs as
        # much time as "wrong password" and does not reveal which accounts exist.
        self._decoy = self._hasher.hash("decoy")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            self._hasher.verify(password_hash or self._decoy, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
        return password_hash is not None
