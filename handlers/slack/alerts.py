"""Alertmanager group cards: the Silence 1h button, and "Silence anyway" on the question it
asks before an over-broad silence (both run by the worker: buttons.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.alerts import actions
from bot.cards.common import ActionId, CardMessage
from bot.deps import Deps
from handlers.slack.buttons import user_name
from handlers.slack.feature import Button, Confirming, Feature


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def silence(
        card_id: str, confirmed: str | None, user: dict[str, Any]
    ) -> str | CardMessage:
        return await actions.silence_for_an_hour(
            card_id,
            user["id"],
            user_name(user),
            store=deps.store,
            timeline=deps.timeline,
            http=deps.http,
            alertmanager_url=deps.settings.alertmanager_url,
            now=deps.clock.now(),
            confirmed=confirmed,
        )

    async def silence_once_asked(card_id: str, user: dict[str, Any]) -> str | CardMessage:
        return await silence(card_id, None, user)

    async def silence_anyway(
        card_id: str, confirmed: str | None, user: dict[str, Any]
    ) -> str | CardMessage:
        # A missing digest confirms nothing: treat it as stale rather than as the first click.
        return await silence(card_id, confirmed or "none", user)

    return {
        ActionId.SILENCE_1H: Button(silence_once_asked, "alert.silence"),
        ActionId.SILENCE_CONFIRM: Button(Confirming(silence_anyway), "alert.silence"),
    }


FEATURE = Feature(name="alerts", buttons=buttons)
