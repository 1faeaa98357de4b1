"""The Slack side of an incident: create its channel, invite people, pin the summary card.

Each call says in plain words what Slack refused; nothing here touches Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import ExternalServiceError
from bot.incidents.rules import channel_name_for, incident_id_for

log = logging.getLogger("seawall.incidents")

# inc-…, inc-…-2 … inc-…-20: more same-day incidents with one title means something else is
# wrong, and the person is told so rather than the bot trying forever.
MAX_NAME_ATTEMPTS = 20
# Slack errors that mean "nobody may invite this person here": reported, never retried.
HARMLESS_INVITE_ERRORS = ("already_in_channel", "cant_invite_self")


@dataclass(frozen=True)
class CreatedChannel:
    incident_id: str
    channel_id: str
    name: str


def slack_error(exc: Exception) -> str:
    """The short Slack error code (e.g. `name_taken`), or the exception's own words."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc)
    return f"{type(exc).__name__}: {exc}"


async def create_channel(
    slack: AsyncWebClient,
    title: str,
    declared_at: datetime,
    known_incident: Callable[[str], Awaitable[bool]],
) -> CreatedChannel:
    """Create `inc-YYYYMMDD-slug`, else `…-2`, `…-3` while Slack answers name_taken.

    `known_incident` skips ids Seawall already used (a deleted channel frees its name in
    Slack, but the old incident's card and timeline are still in Redis)."""
    first = channel_name_for(incident_id_for(title, declared_at))
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        incident_id = incident_id_for(title, declared_at, attempt)
        if await known_incident(incident_id):
            continue
        name = channel_name_for(incident_id)
        try:
            response = await slack.conversations_create(name=name, is_private=False)
        except SlackApiError as exc:
            if slack_error(exc) == "name_taken":
                continue
            raise ExternalServiceError(
                f"Slack refused to create the channel #{name} ({slack_error(exc)})"
            ) from exc
        except Exception as exc:  # network trouble of any kind: nothing was created
            raise ExternalServiceError(
                f"Seawall could not reach Slack to create #{name} ({slack_error(exc)})"
            ) from exc
        channel = response["channel"]
        return CreatedChannel(incident_id, str(channel["id"]), str(channel.get("name", name)))
    raise ExternalServiceError(
        f"the channel names #{first} to #{first}-{MAX_NAME_ATTEMPTS} are all taken"
    )


async def invite(slack: AsyncWebClient, channel: str, user_ids: list[str]) -> list[str]:
    """Invite each person (one call each, so one bad id does not keep the others out);
    returns a sentence per person who could not be invited."""
    problems = []
    for user_id in dict.fromkeys(user_ids):
        try:
            await slack.conversations_invite(channel=channel, users=user_id)
        except SlackApiError as exc:
            if slack_error(exc) in HARMLESS_INVITE_ERRORS:
                continue
            problems.append(f"<@{user_id}> could not be invited ({slack_error(exc)})")
        except Exception as exc:
            problems.append(f"<@{user_id}> could not be invited ({slack_error(exc)})")
    return problems


async def pin(slack: AsyncWebClient, channel: str, ts: str) -> bool:
    """Pin a message; True if pinned now or already. Raises ExternalServiceError otherwise."""
    try:
        await slack.pins_add(channel=channel, timestamp=ts)
    except SlackApiError as exc:
        if slack_error(exc) == "already_pinned":
            return True
        raise ExternalServiceError(f"Slack refused to pin the card ({slack_error(exc)})") from exc
    return True


async def permalink(slack: AsyncWebClient, channel: str, ts: str) -> str | None:
    """A link to a message, or None (a missing link must never stop a declaration)."""
    try:
        response = await slack.chat_getPermalink(channel=channel, message_ts=ts)
    except Exception as exc:
        log.warning("no permalink for %s/%s: %s", channel, ts, slack_error(exc))
        return None
    link = response.get("permalink")
    return str(link) if link else None
