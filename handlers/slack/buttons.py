"""Card buttons: the web process acks and enqueues; the worker does the work and answers.

Each feature gives `buttons(deps) -> {ActionId: Button}` (handlers/features.py): the Button's
`work(card_id, user) -> answer` is what it does (a `Confirming` work also gets the digest its
button carries), its `action` what access it needs. The web process registers one
ack-and-enqueue listener for all of them, which asks the guard first (a refused click is
answered and never queued); a `card_button` job asks the guard again and runs the work in
`seawall worker`, then sends the answer to the clicker through Slack's response_url. A slow
Alertmanager or Sentry API call therefore never holds the web process that must ack within
3 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.cards.common import CardMessage, CardRef
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.store import REDIS_ERRORS
from handlers.slack.after_ack import after_ack, within_ack_budget
from handlers.slack.failures import report_failure
from handlers.slack.feature import Button, Confirming
from handlers.slack.respond import PooledRespond, response_url_of

log = logging.getLogger("seawall.buttons")

STORE_DOWN = "Seawall cannot reach its database right now; nothing was changed. Try again shortly."
NOT_A_CARD = "That button is not attached to a Seawall card; nothing was done."
UNKNOWN_BUTTON = "That button is not known to this Seawall."

# The buttons of every feature, by action id.
ButtonTable = Mapping[str, Button]
# Says why this person may not press this button on this card (None: they may); given by the
# composition root (handlers/access.py).
ButtonGuard = Callable[[Deps, Button, str, str], Awaitable[str | None]]


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


def register(bolt: AsyncApp, deps: Deps, table: ButtonTable, guard: ButtonGuard) -> None:
    async def checked_enqueue(
        action: str, card_id: str, user: dict[str, Any], url: str | None, digest: str | None
    ) -> str | None:
        """Queue the click unless the guard refuses it; the refusal, else None."""
        refusal = await guard(deps, table[action], card_id, str(user.get("id") or ""))
        if refusal is not None:
            return refusal
        confirmed: dict[str, Any] = {"confirmed": digest} if digest is not None else {}
        await deps.jobs.enqueue(
            "card_button",
            retries=1,
            action=action,
            card_id=card_id,
            user=user,
            response_url=url,
            **confirmed,
        )
        return None

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
        enqueueing = await within_ack_budget(checked_enqueue(action, ref.c, user, url, ref.d))
        await ack()
        if enqueueing.done() and enqueueing.exception() is None and enqueueing.result() is None:
            return
        after_ack(tell_if_not_enqueued(deps, enqueueing, url), f"enqueueing {action}")

    # One listener for every card button: Bolt tries each registered listener's matcher in
    # turn on every request, so one per button cost ~10% of a click's CPU (py-spy).
    ids = "|".join(re.escape(action) for action in sorted(table))
    bolt.action(re.compile(f"^(?:{ids})$"))(listener)


async def run_button(
    deps: Deps,
    table: ButtonTable,
    guard: ButtonGuard,
    *,
    action: str,
    card_id: str,
    user: dict[str, Any],
    response_url: str | None,
    confirmed: str | None = None,
) -> None:
    """The `card_button` job: ask the guard again (roles may have changed since the click was
    queued), do what the button says, then answer the clicker."""
    button = table.get(action)
    answer: str | CardMessage
    try:
        refusal = await guard(deps, button, card_id, str(user.get("id"))) if button else None
        if button is None:
            answer = UNKNOWN_BUTTON
        elif refusal is not None:
            answer = refusal
        elif isinstance(button.work, Confirming):
            answer = await button.work.work(card_id, confirmed, user)
        else:
            answer = await button.work(card_id, user)
    except StoreUnavailable:
        answer = STORE_DOWN
    except Exception as exc:
        answer = report_failure(exc, f"button {action} on {card_id}")
    if response_url:
        await tell_clicker(deps, response_url, answer)


async def tell_if_not_enqueued(
    deps: Deps, enqueueing: asyncio.Future[str | None], url: str | None
) -> None:
    """After the ack: tell the clicker why their click was refused or could not be queued."""
    try:
        refusal = await enqueueing
    except (*REDIS_ERRORS, StoreUnavailable):
        refusal = STORE_DOWN
    if refusal is not None and url:
        await tell_clicker(deps, url, refusal)


async def tell_clicker(deps: Deps, response_url: str, answer: str | CardMessage) -> None:
    text, blocks = (answer, None) if isinstance(answer, str) else (answer.text, answer.blocks)
    await PooledRespond(deps.http, response_url)(
        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
    )
