"""The Sentry buttons on issue cards (acked, then run by the worker: buttons.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.cards.common import ActionId
from bot.deps import Deps
from bot.sentry import actions
from bot.sentry.actions import SentryAccess, StatusChange
from handlers.slack.feature import Button, CardWork, Feature


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    def change_status(change: StatusChange) -> CardWork:
        async def work(card_id: str, user: dict[str, Any]) -> str:
            settings = deps.settings
            access = SentryAccess(
                settings.sentry_url, settings.sentry_org, settings.sentry_api_token
            )
            return await actions.change_issue_status(
                deps.store, deps.http, access, change, card_id, user["id"], deps.clock.now()
            )

        return work

    return {
        ActionId.SENTRY_RESOLVE: Button(change_status(actions.RESOLVE), "sentry.resolve"),
        ActionId.SENTRY_IGNORE_1H: Button(change_status(actions.IGNORE_1H), "sentry.ignore"),
    }


FEATURE = Feature(name="sentry", buttons=buttons)
