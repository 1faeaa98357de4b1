"""Answers to Slack's response_url through one pooled HTTP client.

Bolt's own `respond()` opens a new aiohttp session for every answer. Most answers ride in
the ack or come from the worker; the web process's few (after the ack) and the worker's go
through this. A middleware puts it in Bolt's context, so listeners' `respond` argument is it.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from slack_sdk.errors import SlackApiError

from bot.deps import Deps

log = logging.getLogger("seawall.respond")


class PooledRespond:
    """Same call shape as Bolt's AsyncRespond, for what Seawall uses of it."""

    def __init__(self, http: httpx.AsyncClient, response_url: str) -> None:
        self.http = http
        self.response_url = response_url

    async def __call__(
        self,
        text: str = "",
        blocks: list[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {"text": text, **extra}
        if blocks is not None:
            body["blocks"] = [b if isinstance(b, dict) else b.to_dict() for b in blocks]
        for key, value in (
            ("response_type", response_type),
            ("replace_original", replace_original),
            ("delete_original", delete_original),
        ):
            if value is not None:
                body[key] = value
        response = await self.http.post(self.response_url, json=body, timeout=10)
        if response.status_code != 200:
            log.warning("response_url answered %d: %s", response.status_code, response.text[:200])
        return response


def response_url_of(body: dict[str, Any]) -> str | None:
    url = body.get("response_url")
    if url:
        return str(url)
    urls = body.get("response_urls") or []  # view submissions carry a list
    return str(urls[0]["response_url"]) if urls and urls[0].get("response_url") else None


async def tell_beside_card(deps: Deps, card_id: str, user_id: str, text: str) -> None:
    """An ephemeral message in the card's channel, for answers that have no response_url to
    go to (modal submissions)."""
    card = await deps.store.get_card(card_id)
    channel = card.channel if card is not None else user_id
    try:
        await deps.slack.chat_postEphemeral(channel=channel, user=user_id, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s: %s", user_id, exc.response.get("error"))
