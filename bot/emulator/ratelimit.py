"""Token buckets that reproduce Slack's Web API rate limits on an injected clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

POST_MESSAGE = "chat.postMessage"


@dataclass
class TokenBucket:
    """`capacity` calls at once, refilled at `rate` calls per second."""

    rate: float
    capacity: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated_at = now

    def wait_seconds(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """Per-channel buckets for chat.postMessage and workspace-wide buckets per method.

    A call takes a token from every bucket that applies to it, or from none: a refused
    call must not eat the allowance of the next one.
    """

    def __init__(
        self,
        *,
        post_message_rate_per_channel: float,
        post_message_burst: int,
        method_limits_per_minute: dict[str, int],
        clock: Callable[[], float],
        retry_after_seconds: int | None = None,
    ) -> None:
        self._post_rate = post_message_rate_per_channel
        self._post_burst = post_message_burst
        self._method_limits = dict(method_limits_per_minute)
        self._clock = clock
        self._fixed_retry_after = retry_after_seconds
        self._buckets: dict[tuple[str, str | None], TokenBucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, key: tuple[str, str | None], rate: float, capacity: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(rate, capacity, capacity, self._clock())
            self._buckets[key] = bucket
        return bucket

    def _buckets_for(self, method: str, channel: str | None) -> list[TokenBucket]:
        buckets = []
        if method == POST_MESSAGE and channel is not None and self._post_rate > 0:
            buckets.append(self._bucket((method, channel), self._post_rate, self._post_burst))
        per_minute = self._method_limits.get(method)
        if per_minute:
            buckets.append(self._bucket((method, None), per_minute / 60.0, per_minute))
        return buckets

    def acquire(self, method: str, channel: str | None = None) -> int | None:
        """Take a token for this call; None when allowed, else the Retry-After in seconds."""
        now = self._clock()
        buckets = self._buckets_for(method, channel)
        for bucket in buckets:
            bucket.refill(now)
        wait = max((b.wait_seconds() for b in buckets), default=0.0)
        if wait > 0:
            if self._fixed_retry_after is not None:
                return self._fixed_retry_after
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None
