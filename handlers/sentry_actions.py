"""The Sentry buttons on issue cards (acked, then run by the worker: card_buttons.py)."""

from __future__ import annotations

from typing import Any

from bot import sentry_actions
from bot.cards.common import ActionId
from bot.deps import Deps
from bot.sentry_actions import SentryAccess, StatusChange
from handlers.actions import CardWork


def buttons(deps: Deps) -> dict[ActionId, CardWork]:
    def change_status(change: StatusChange) -> CardWork:
        async def work(card_id: str, user: dict[str, Any]) -> str:
            settings = deps.settings
            access = SentryAccess(
                settings.sentry_url, settings.sentry_org, settings.sentry_api_token
            )
            return await sentry_actions.change_issue_status(
                deps.store, deps.http, access, change, card_id, user["id"], deps.clock.now()
            )

        return work

    return {
        ActionId.SENTRY_RESOLVE: change_status(sentry_actions.RESOLVE),
        ActionId.SENTRY_IGNORE_1H: change_status(sentry_actions.IGNORE_1H),
    }
