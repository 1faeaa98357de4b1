"""The Slack Web API client, pointed at SLACK_API_URL (Slack, or the emulator)."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient


def make_client(token: str, base_url: str, *, retry_rate_limits: bool) -> AsyncWebClient:
    """A client for `base_url`.

    The outbound poster handles 429s itself (pauses shared through Redis, so every process
    backs off together), so it passes retry_rate_limits=False; interactive replies
    (ephemeral messages, modals) let slack_sdk wait out a Retry-After instead."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=10)
    if retry_rate_limits:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client
