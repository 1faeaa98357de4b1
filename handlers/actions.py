"""Buttons on triage cards: what each does (run by the worker) and the link-button ack."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import card_actions, incident_links
from bot.cards.common import ActionId, CardRef
from bot.deps import Deps

STORE_DOWN = "Seawall cannot reach its database right now; nothing was changed. Try again shortly."
NOT_A_CARD = "That button is not attached to a Seawall card; nothing was done."

# What a card button does: (card id, the clicking user as Slack sent it) -> sentence for them.
CardWork = Callable[[str, dict[str, Any]], Awaitable[str]]


def card_ref(body: dict[str, Any]) -> CardRef | None:
    """The card a button acts on, or None when the value is missing or not ours."""
    actions = body.get("actions") or []
    value = actions[0].get("value") if actions else None
    if not value:
        return None
    try:
        return CardRef.model_validate_json(value)
    except ValidationError:
        return None


async def tell(respond: AsyncRespond, text: str) -> None:
    """An ephemeral answer to the person who clicked (via response_url: no scopes needed)."""
    await respond(text=text, response_type="ephemeral", replace_original=False)


def user_name(user: dict[str, Any]) -> str:
    return str(user.get("username") or user.get("name") or user["id"])


def buttons(deps: Deps) -> dict[ActionId, CardWork]:
    """The triage-card buttons (run by the worker: handlers/card_buttons.py)."""

    async def acknowledge(card_id: str, user: dict[str, Any]) -> str:
        return await card_actions.acknowledge(deps.store, card_id, user["id"], deps.clock.now())

    async def silence(card_id: str, user: dict[str, Any]) -> str:
        return await card_actions.silence_for_an_hour(
            deps.store,
            deps.http,
            deps.settings.alertmanager_url,
            card_id,
            user["id"],
            user_name(user),
            deps.clock.now(),
        )

    async def declare(card_id: str, user: dict[str, Any]) -> str:
        return await incident_links.declare_from_card(deps, card_id, user["id"])

    return {
        ActionId.ACK: acknowledge,
        ActionId.SILENCE_1H: silence,
        ActionId.DECLARE_INCIDENT: declare,
    }


def register(bolt: AsyncApp, deps: Deps) -> None:
    # Link buttons open a URL in the browser, but Slack still sends an interaction that must
    # be acknowledged, or the user sees a warning icon.
    @bolt.action(re.compile(re.escape(ActionId.LINK_PREFIX.value) + ".*"))
    async def link(ack: AsyncAck) -> None:
        await ack()
