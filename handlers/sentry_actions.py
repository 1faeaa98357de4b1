"""The Sentry buttons on issue cards. Every listener acks first (Slack's 3-second rule)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import sentry_actions
from bot.cards.common import ActionId
from bot.errors import StoreUnavailable
from bot.sentry_actions import SentryAccess, StatusChange
from handlers.actions import STORE_DOWN, card_ref, tell
from handlers.deps import Deps

NOT_A_CARD = "That button is not attached to a Seawall card; nothing was done."


def register(bolt: AsyncApp, deps: Deps) -> None:
    async def change_status(
        change: StatusChange, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        ref = card_ref(body)
        if ref is None:
            await tell(respond, NOT_A_CARD)
            return
        settings = deps.settings
        access = SentryAccess(settings.sentry_url, settings.sentry_org, settings.sentry_api_token)
        try:
            text = await sentry_actions.change_issue_status(
                deps.store,
                deps.http,
                access,
                change,
                ref.c,
                body["user"]["id"],
                deps.clock.now(),
            )
        except StoreUnavailable:
            text = STORE_DOWN
        await tell(respond, text)

    @bolt.action(ActionId.SENTRY_RESOLVE.value)
    async def resolve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await change_status(sentry_actions.RESOLVE, body, respond)

    @bolt.action(ActionId.SENTRY_IGNORE_1H.value)
    async def ignore(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await change_status(sentry_actions.IGNORE_1H, body, respond)
