"""Who is making a request: access token -> Requester.

This runs on every authenticated request, so resolved tokens are kept in an in-memory
LRU cache. Every path that deletes tokens goes through `forget_tokens`, so the cache
never outlives a logout in this process. (Several processes would need the notifier
to broadcast invalidations.)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ranvier.clock import Clock
from ranvier.errors import MatrixError
from ranvier.storage.accounts import AccountsStore

_CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class Requester:
    user_id: str
    device_id: str | None
    is_guest: bool
    access_token: str
    #: The application service acting, if the token is an appservice's.
    app_service_id: str | None = None


@dataclass(frozen=True, slots=True)
class _CachedToken:
    requester: Requester
    valid_until_ms: int | None


class AuthService:
    def __init__(self, accounts: AccountsStore, clock: Clock) -> None:
        self._accounts = accounts
        self._clock = clock
        self._cache: OrderedDict[str, _CachedToken] = OrderedDict()

    async def get_requester(self, token: str) -> Requester:
        """The requester for an access token (M_UNKNOWN_TOKEN, with soft_logout for an
        expired token that can be refreshed)."""
        cached = self._cache.get(token)
        if cached is None:
            record = await self._accounts.get_access_token(token)
            if record is None or record.deactivated:
                raise MatrixError(401, "M_UNKNOWN_TOKEN", "Unknown access token",
                                  soft_logout=False)
            cached = _CachedToken(
                Requester(record.user_id, record.device_id, record.is_guest, token),
                record.valid_until_ms,
            )
            self._cache[token] = cached
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(token)
        if cached.valid_until_ms is not None and cached.valid_until_ms <= self._clock.time_ms():
            # The device keeps its keys: the client should refresh, not start over.
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Access token has expired",
                              soft_logout=True)
        return cached.requester

    def forget_tokens(self, tokens: list[str]) -> None:
        for token in tokens:
            self._cache.pop(token, None)
