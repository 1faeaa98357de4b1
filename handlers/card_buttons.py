"""Card buttons: the web process acks and enqueues; the worker does the work and answers.

Every module with buttons exposes `buttons(deps) -> {ActionId: work}`, where
`work(card_id, user) -> sentence` is what the button does. The web process only registers an
ack-and-enqueue listener for each; a `card_button` job runs `work` in `seawall worker` and
sends the sentence to the clicker through Slack's response_url. A slow Alertmanager or
Sentry API call therefore never holds the web process that must ack within 3 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.errors import StoreUnavailable
from bot.store import REDIS_ERRORS
from handlers import actions, approval_actions, run_actions, sentry_actions, step_back_actions
from handlers.actions import NOT_A_CARD, STORE_DOWN, CardWork, card_ref
from handlers.after_ack import after_ack, within_ack_budget
from handlers.failures import report_failure
from handlers.respond import PooledRespond, response_url_of

log = logging.getLogger("seawall.buttons")

BUTTON_MODULES = (actions, sentry_actions, run_actions, step_back_actions, approval_actions)


def all_buttons(deps: Deps) -> dict[str, CardWork]:
    found: dict[str, CardWork] = {}
    for module in BUTTON_MODULES:
        for action, work in module.buttons(deps).items():
            found[action.value] = work
    return found


def register(bolt: AsyncApp, deps: Deps) -> None:
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
        enqueueing = await within_ack_budget(
            deps.jobs.enqueue(
                "card_button", retries=1, action=action, card_id=ref.c, user=user, response_url=url
            )
        )
        await ack()
        if enqueueing.done() and enqueueing.exception() is None:
            return
        after_ack(tell_if_not_enqueued(deps, enqueueing, url), f"enqueueing {action}")

    # One listener for every card button: Bolt tries each registered listener's matcher in
    # turn on every request, so one per button cost ~10% of a click's CPU (py-spy).
    ids = "|".join(re.escape(action) for action in sorted(all_buttons(deps)))
    bolt.action(re.compile(f"^(?:{ids})$"))(listener)


async def card_button(
    deps: Deps, *, action: str, card_id: str, user: dict[str, Any], response_url: str | None
) -> None:
    """The job: do what the button says, then answer the clicker."""
    work = all_buttons(deps).get(action)
    try:
        text = await work(card_id, user) if work else "That button is not known to this Seawall."
    except StoreUnavailable:
        text = STORE_DOWN
    except Exception as exc:
        text = report_failure(exc, f"button {action} on {card_id}")
    if response_url:
        await tell_clicker(deps, response_url, text)


async def tell_if_not_enqueued(
    deps: Deps, enqueueing: asyncio.Future[Any], url: str | None
) -> None:
    try:
        await enqueueing
    except REDIS_ERRORS:
        if url:
            await tell_clicker(deps, url, STORE_DOWN)


async def tell_clicker(deps: Deps, response_url: str, text: str) -> None:
    await PooledRespond(deps.http, response_url)(
        text=text, response_type="ephemeral", replace_original=False
    )


JOBS = {"card_button": card_button}
