"""Rate limiting: a token bucket per (action, key), refilled continuously.

The key is a user ID or a client IP address. Limits come from the `rc_*` options; a
request over its limit gets M_LIMIT_EXCEEDED with `retry_after_ms` (and a Retry-After
header, added by the error renderer).
"""

from __future__ import annotations

from dataclasses import dataclass

from ranvier.clock import Clock
from ranvier.config import RateLimit
from ranvier.errors import MatrixError

# Forget buckets once this many are held; a full bucket carries no information.
_PRUNE_AT = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class Ratelimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _refill(self, action: str, key: str, limit: RateLimit) -> _Bucket:
        now = self._clock.monotonic()
        bucket = self._buckets.get((action, key))
        if bucket is None:
            if len(self._buckets) >= _PRUNE_AT:
                self._prune(now, limit)
            bucket = self._buckets[(action, key)] = _Bucket(limit.burst_count, now)
        else:
            bucket.tokens = min(
                limit.burst_count, bucket.tokens + (now - bucket.updated) * limit.per_second
            )
            bucket.updated = now
        return bucket

    def check(self, action: str, key: str, limit: RateLimit, cost: float = 1.0) -> None:
        """Take `cost` tokens, or raise M_LIMIT_EXCEEDED (taking none)."""
        self._raise_if_empty(self._refill(action, key, limit), limit, cost)
        self._buckets[(action, key)].tokens -= cost

    def peek(self, action: str, key: str, limit: RateLimit) -> None:
        """Raise M_LIMIT_EXCEEDED if the bucket is empty, without taking a token (for
        limits charged only on failure, like failed logins)."""
        self._raise_if_empty(self._refill(action, key, limit), limit, 1.0)

    def record(self, action: str, key: str, limit: RateLimit, cost: float = 1.0) -> None:
        """Take tokens without checking (charging a failure after the fact)."""
        self._refill(action, key, limit).tokens -= cost

    @staticmethod
    def _raise_if_empty(bucket: _Bucket, limit: RateLimit, cost: float) -> None:
        if bucket.tokens >= cost:
            return
        if limit.per_second <= 0:
            retry_after_ms = 60_000
        else:
            retry_after_ms = int((cost - bucket.tokens) / limit.per_second * 1000) + 1
        raise MatrixError(
            429, "M_LIMIT_EXCEEDED", "Too many requests", retry_after_ms=retry_after_ms
        )

    def _prune(self, now: float, limit: RateLimit) -> None:
        # Buckets that have had time to refill completely are indistinguishable from new.
        full_after = limit.burst_count / limit.per_second if limit.per_second > 0 else None
        if full_after is None:
            return
        self._buckets = {
            k: b for k, b in self._buckets.items() if now - b.updated < full_after
        }
