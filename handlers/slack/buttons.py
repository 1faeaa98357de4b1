"""Card buttons: the web process acks and enqueues; the worker does the work and answers.

Each feature gives `buttons(deps) -> {ActionId: work}` (handlers/features.py), where
`work(card_id, user) -> answer` is what the button does (a `Confirming` work also gets the
digest its button carries). The web process only registers an
ack-and-enqueue listener for all of them; a `card_button` job runs `work` in `seawall worker`
and sends the sentence to the clicker through Slack's response_url. A slow Alertmanager or
Sentry API call therefore never holds the web process that must ack within 3 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.cards.common import CardMessage, CardRef
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.store import REDIS_ERRORS
from handlers.slack.after_ack import after_ack, within_ack_budget
from handlers.slack.failures import report_failure
from handlers.slack.feature import ButtonWork, Confirming
from handlers.slack.respond import PooledRespond, response_url_of

log = logging.getLogger("seawall.buttons")

STORE_DOWN = "Seawall cannot reach its database right now; nothing was changed. Try again shortly."
NOT_A_CARD = "That button is not attached to a Seawall card; nothing was done."
UNKNOWN_BUTTON = "That button is not known to this Seawall."

# The buttons of every feature, by action id.
ButtonTable = Mapping[str, ButtonWork]


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


def register(bolt: AsyncApp, deps: Deps, table: ButtonTable) -> None:
    async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
        url = response_url_of(body)
        ref = card_ref(body)
        action = str(body["actions"][0]["action_id"])
        user = {k: body["user"].get(k) for k in ("id", "username", "name")}
        if ref is None:
            await ack()
            if url:
                after_ack(tell_clicker(deps, url, NOT_A_CARD), f"answer to {action}")
            return
        # One attempt only: a button's effect (a silence, a Sentry resolve) must not be
        # repeated by a queue retry; the clicker is told if it failed. Enqueued before the
        # ack, so once Slack has its 200 the click is safely in Redis.
        confirmed: dict[str, Any] = {"confirmed": ref.d} if ref.d is not None else {}
        enqueueing = await within_ack_budget(
            deps.jobs.enqueue(
                "card_button",
                retries=1,
                action=action,
                card_id=ref.c,
                user=user,
                response_url=url,
                **confirmed,
            )
        )
        await ack()
        if enqueueing.done() and enqueueing.exception() is None:
            return
        after_ack(tell_if_not_enqueued(deps, enqueueing, url), f"enqueueing {action}")

    # One listener for every card button: Bolt tries each registered listener's matcher in
    # turn on every request, so one per button cost ~10% of a click's CPU (py-spy).
    ids = "|".join(re.escape(action) for action in sorted(table))
    bolt.action(re.compile(f"^(?:{ids})$"))(listener)


async def run_button(
    deps: Deps,
    table: ButtonTable,
    *,
    action: str,
    card_id: str,
    user: dict[str, Any],
    response_url: str | None,
    confirmed: str | None = None,
) -> None:
    """The `card_button` job: do what the button says, then answer the clicker."""
    work = table.get(action)
    answer: str | CardMessage
    try:
        if work is None:
            answer = UNKNOWN_BUTTON
        elif isinstance(work, Confirming):
            answer = await work.work(card_id, confirmed, user)
        else:
            answer = await work(card_id, user)
    except StoreUnavailable:
        answer = STORE_DOWN
    except Exception as exc:
        answer = report_failure(exc, f"button {action} on {card_id}")
    if response_url:
        await tell_clicker(deps, response_url, answer)


async def tell_if_not_enqueued(
    deps: Deps, enqueueing: asyncio.Future[Any], url: str | None
) -> None:
    try:
        await enqueueing
    except REDIS_ERRORS:
        if url:
            await tell_clicker(deps, url, STORE_DOWN)


async def tell_clicker(deps: Deps, response_url: str, answer: str | CardMessage) -> None:
    text, blocks = (answer, None) if isinstance(answer, str) else (answer.text, answer.blocks)
    await PooledRespond(deps.http, response_url)(
        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
    )
