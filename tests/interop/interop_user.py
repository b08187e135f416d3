"""What the interop scenarios' client wrappers share (nio_helpers.NioUser,
mautrix_helpers.MautrixUser): waiting for something by syncing, and a registered pair
of users for a scenario."""

from __future__ import annotations

import contextlib
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

WAIT_SECONDS = 15.0


class InteropUser(ABC):
    """One user driven by a real client library."""

    localpart: str

    @abstractmethod
    async def register(self, password: str) -> None:
        """Register and log in, then sync once: later syncs are incremental."""

    @abstractmethod
    async def sync_once(self, timeout_ms: int = 500) -> Any:
        """One /sync, recording what it brought."""

    @abstractmethod
    async def close(self) -> None: ...

    async def wait_for(self, what: str, predicate: Callable[[], Any]) -> Any:
        """Sync until `predicate()` is truthy; fail naming `what` after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.localpart} never saw {what} through /sync")
            await self.sync_once()


U = TypeVar("U", bound=InteropUser)


@contextlib.asynccontextmanager
async def alice_and_bob(new_user: Callable[[str], U], password: str) -> AsyncIterator[tuple[U, U]]:
    """Two registered users (localparts with a random suffix), closed afterwards."""
    suffix = secrets.token_hex(3)
    alice, bob = new_user(f"alice{suffix}"), new_user(f"bob{suffix}")
    try:
        for user in (alice, bob):
            await user.register(password)
        yield alice, bob
    finally:
        await alice.close()
        await bob.close()
