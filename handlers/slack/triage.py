"""Triage cards (any source): Acknowledge, and the ack Slack needs for link buttons."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import triage
from bot.cards.common import ActionId
from bot.deps import Deps
from handlers import wiring
from handlers.slack.feature import Button, Feature


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def acknowledge(card_id: str, user: dict[str, Any]) -> str:
        answer = await triage.acknowledge(
            card_id, user["id"], store=deps.store, timeline=deps.timeline, now=deps.clock.now()
        )
        await wiring.card_changed(deps, card_id)  # acknowledging the card stops its page
        return answer

    return {ActionId.ACK: Button(acknowledge, "alert.ack")}


def register(bolt: AsyncApp, deps: Deps) -> None:
    # Link buttons open a URL in the browser, but Slack still sends an interaction that must
    # be acknowledged, or the user sees a warning icon.
    @bolt.action(re.compile(re.escape(ActionId.LINK_PREFIX.value) + ".*"))
    async def link(ack: AsyncAck) -> None:
        await ack()


FEATURE = Feature(name="triage", buttons=buttons, register=register)
