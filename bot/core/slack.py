"""The Slack Web API client, pointed at SLACK_API_URL (Slack, or the emulator)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import ConfigError

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


class ChannelLister(Protocol):
    async def conversations_list(self, **kwargs: Any) -> Any: ...


async def channel_id(slack: ChannelLister, ref: str) -> str:
    """A channel ID for `ref` (an ID already, or `#name`), asked of Slack once at start.
    Raises ConfigError saying what to do when Slack does not know the name."""
    if not ref.startswith("#"):
        return ref
    name, cursor = ref[1:], None
    try:
        while True:
            page = await slack.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                **({"cursor": cursor} if cursor else {}),
            )
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as exc:
        raise ConfigError(
            [
                f"SEAWALL_CHANNEL {ref}: Slack would not list channels "
                f"({exc.response.get('error')}); use the channel ID (C…, at the bottom of the "
                "channel's details, About tab), or give the app channels:read and groups:read"
            ]
        ) from exc
    raise ConfigError(
        [
            f"SEAWALL_CHANNEL {ref}: Slack knows no channel of that name that Seawall can see "
            "(private channels: invite the bot first). Use the channel ID (C…, at the bottom "
            "of the channel's details, About tab)"
        ]
    )
