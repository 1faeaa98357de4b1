"""Buttons on triage cards. Every listener acks first (Slack's 3-second rule), then works."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import card_actions
from bot.cards.common import ActionId, CardRef
from bot.errors import StoreUnavailable
from handlers.deps import Deps

log = logging.getLogger("seawall.actions")

STORE_DOWN = "Seawall cannot reach its database right now; nothing was changed. Try again shortly."


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


def register(bolt: AsyncApp, deps: Deps) -> None:
    @bolt.action(ActionId.ACK.value)
    async def acknowledge(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = card_ref(body)
        if ref is None:
            await tell(respond, "That button is not attached to a Seawall card; nothing was done.")
            return
        try:
            text = await card_actions.acknowledge(
                deps.store, ref.c, body["user"]["id"], deps.clock.now()
            )
        except StoreUnavailable:
            text = STORE_DOWN
        await tell(respond, text)

    @bolt.action(ActionId.SILENCE_1H.value)
    async def silence(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = card_ref(body)
        if ref is None:
            await tell(respond, "That button is not attached to a Seawall card; nothing was done.")
            return
        user = body["user"]
        try:
            text = await card_actions.silence_for_an_hour(
                deps.store,
                deps.http,
                deps.settings.alertmanager_url,
                ref.c,
                user["id"],
                user.get("username") or user.get("name") or user["id"],
                deps.clock.now(),
            )
        except StoreUnavailable:
            text = STORE_DOWN
        await tell(respond, text)

    @bolt.action(ActionId.DECLARE_INCIDENT.value)
    async def declare(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        ref = card_ref(body)
        if ref is None:
            await tell(respond, "That button is not attached to a Seawall card; nothing was done.")
            return
        try:
            text = await card_actions.declare_incident_placeholder(
                deps.store, ref.c, body["user"]["id"], deps.clock.now()
            )
        except StoreUnavailable:
            text = STORE_DOWN
        await tell(respond, text)

    # Link buttons open a URL in the browser, but Slack still sends an interaction that must
    # be acknowledged, or the user sees a warning icon.
    @bolt.action(re.compile(re.escape(ActionId.LINK_PREFIX.value) + ".*"))
    async def link(ack: AsyncAck) -> None:
        await ack()
