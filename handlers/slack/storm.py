"""The storm card's buttons (run by the worker: buttons.py) and the storm's quiet check job.

Acknowledge all needs what each card's Acknowledge needs (`alert.ack`); Silence storm and its
confirmation what each card's Silence needs (`alert.silence`): the router's guard checks them
where the click arrives and again in the worker. Alertmanager's API is the alerts feature's,
handed to the storm feature here (features never import each other)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bot.alerts.api import create_silence, matching_fingerprints
from bot.cards.common import ActionId, CardMessage
from bot.deps import Deps
from bot.storm import actions, flow
from handlers import wiring
from handlers.slack.buttons import user_name
from handlers.slack.feature import Button, Confirming, Feature


@dataclass(frozen=True)
class AlertmanagerSilences:
    """bot/alerts/api.py as the storm's Silences."""

    http: httpx.AsyncClient
    url: str

    async def matching(self, matchers: dict[str, str]) -> list[str]:
        return await matching_fingerprints(self.http, self.url, matchers)

    async def create(
        self, matchers: dict[str, str], *, starts_at: datetime, ends_at: datetime, by: str
    ) -> str:
        return await create_silence(
            self.http,
            self.url,
            matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=by,
            comment="Silenced for 1h from Seawall's storm card",
        )


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def acknowledge_all(card_id: str, user: dict[str, Any]) -> str:
        async def changed(member: str) -> None:
            await wiring.card_changed(deps, member)  # an acknowledged card stops its page

        return await actions.acknowledge_all(
            card_id,
            user["id"],
            store=deps.store,
            timeline=deps.timeline,
            now=deps.clock.now(),
            changed=changed,
        )

    async def silence(
        card_id: str, confirmed: str | None, user: dict[str, Any]
    ) -> str | CardMessage:
        url = deps.settings.alertmanager_url
        return await actions.silence_storm(
            card_id,
            user["id"],
            user_name(user),
            store=deps.store,
            silences=AlertmanagerSilences(deps.http, url) if url else None,
            now=deps.clock.now(),
            confirmed=confirmed,
        )

    async def ask(card_id: str, user: dict[str, Any]) -> str | CardMessage:
        return await silence(card_id, None, user)

    async def confirm(
        card_id: str, confirmed: str | None, user: dict[str, Any]
    ) -> str | CardMessage:
        # A missing digest confirms nothing: stale, never taken for the first press.
        return await silence(card_id, confirmed or "none", user)

    return {
        ActionId.STORM_ACK_ALL: Button(acknowledge_all, "alert.ack"),
        ActionId.STORM_SILENCE: Button(ask, "alert.silence"),
        ActionId.STORM_SILENCE_CONFIRM: Button(Confirming(confirm), "alert.silence"),
    }


FEATURE = Feature(name="storm", buttons=buttons, jobs={flow.QUIET_JOB: flow.quiet_check})
