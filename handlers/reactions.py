"""Reactions: the approve emoji on a change-request card approves; taking it away withdraws.

Runs after build_bolt's event de-duplication (a Slack retry never arrives here twice). Real
reaction payloads come with blank values or without event_id (docs/decisions.md): anything
that does not parse is ignored. Reaction events carry no response_url, so the reacting person
is answered with chat.postEphemeral.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import approval_flow
from bot.deps import Deps
from bot.errors import StoreUnavailable
from handlers.after_ack import after_ack

log = logging.getLogger("seawall.reactions")

USER_ID = r"^[UW][A-Z0-9]{2,}$"
STORE_DOWN = (
    "Seawall cannot reach its database right now, so your reaction was not recorded. "
    "Remove it and add it again in a minute."
)


class ReactedItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["message"]
    channel: Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,}$")]
    ts: Annotated[str, Field(pattern=r"^[1-9][0-9]*\.[0-9]+$")]


class ReactionEvent(BaseModel):
    """reaction_added / reaction_removed on a message (files and blanks do not parse)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["reaction_added", "reaction_removed"]
    user: Annotated[str, Field(pattern=USER_ID)]
    reaction: Annotated[str, Field(min_length=1, max_length=100)]
    item: ReactedItem


def parse_reaction(event: dict[str, Any]) -> ReactionEvent | None:
    try:
        return ReactionEvent.model_validate(event)
    except ValidationError:
        return None


async def tell_reactor(deps: Deps, channel: str, user: str, text: str) -> None:
    try:
        await deps.slack.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:  # e.g. user_not_in_channel: nothing else to do
        log.warning("could not answer %s in %s: %s", user, channel, exc.response.get("error"))


def register(bolt: AsyncApp, deps: Deps) -> None:
    async def on_reaction(event: dict[str, Any]) -> None:
        reaction = parse_reaction(event)
        if reaction is None:
            log.info("ignored a reaction event Seawall cannot use (type %s)", event.get("type"))
            return
        # Deciding may ask Slack who is in an approver usergroup: after the response, so a
        # slow Slack API cannot make Slack time out and retry the event.
        after_ack(handle_reaction(deps, reaction), "reaction")

    bolt.event("reaction_added")(on_reaction)
    bolt.event("reaction_removed")(on_reaction)


async def handle_reaction(deps: Deps, reaction: ReactionEvent) -> None:
    item = reaction.item
    try:
        text = await approval_flow.react(
            deps,
            item.channel,
            item.ts,
            reaction.user,
            reaction.reaction,
            added=reaction.type == "reaction_added",
        )
    except StoreUnavailable:
        log.error("Redis unreachable: reaction by %s on %s lost", reaction.user, item.ts)
        text = STORE_DOWN
    if text:
        await tell_reactor(deps, item.channel, reaction.user, text)
