"""Alertmanager group cards: the Silence 1h button (run by the worker: buttons.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.alerts import actions
from bot.cards.common import ActionId
from bot.deps import Deps
from handlers.slack.buttons import user_name
from handlers.slack.feature import Button, Feature


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def silence(card_id: str, user: dict[str, Any]) -> str:
        return await actions.silence_for_an_hour(
            card_id,
            user["id"],
            user_name(user),
            store=deps.store,
            timeline=deps.timeline,
            http=deps.http,
            alertmanager_url=deps.settings.alertmanager_url,
            now=deps.clock.now(),
        )

    return {ActionId.SILENCE_1H: Button(silence, "alert.silence")}


FEATURE = Feature(name="alerts", buttons=buttons)
