"""The Slack Web API client, pointed at SLACK_API_URL (Slack, or the emulator)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("seawall.slack")


def make_client(token: str, base_url: str, *, retry_rate_limits: bool) -> AsyncWebClient:
    """A client for `base_url`.

    The outbound poster handles 429s itself (pauses shared through Redis, so every process
    backs off together), so it passes retry_rate_limits=False; interactive replies
    (ephemeral messages, modals) let slack_sdk wait out a Retry-After instead."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=10)
    if retry_rate_limits:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


class UsergroupLister(Protocol):
    """The one Web API call membership needs (slack_sdk's AsyncWebClient has it)."""

    async def usergroups_users_list(self, *, usergroup: str) -> Any: ...


async def in_usergroups(
    slack: UsergroupLister, user_id: str, usergroups: Iterable[str]
) -> tuple[bool, list[str]]:
    """(is `user_id` in any of `usergroups`, the groups Slack would not list as "S…: error").

    Asked of Slack every time: membership changes, and several processes run, so nothing
    that decides who may act is cached in a process."""
    failures: list[str] = []
    for group in usergroups:
        try:
            response = await slack.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("usergroups.users.list %s failed: %s", group, error)
            failures.append(f"{group}: {error}")
            continue
        if user_id in (response.get("users") or []):
            return True, failures
    return False, failures
