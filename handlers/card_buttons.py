"""Card buttons: the web process acks and enqueues; the worker does the work and answers.

Every module with buttons exposes `buttons(deps) -> {ActionId: work}`, where
`work(card_id, user) -> sentence` is what the button does. The web process only registers an
ack-and-enqueue listener for each; a `card_button` job runs `work` in `seawall worker` and
sends the sentence to the clicker through Slack's response_url. A slow Alertmanager or
Sentry API call therefore never holds the web process that must ack within 3 s.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import sentry_sdk
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.errors import StoreUnavailable
from bot.store import REDIS_ERRORS
from handlers import actions, approval_actions, run_actions, sentry_actions, step_back_actions
from handlers.actions import NOT_A_CARD, STORE_DOWN, CardWork, card_ref
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
        await ack()
        url = response_url_of(body)
        ref = card_ref(body)
        action = str(body["actions"][0]["action_id"])
        user = {k: body["user"].get(k) for k in ("id", "username", "name")}
        try:
            if ref is None:
                text: str | None = NOT_A_CARD
            else:
                # One attempt only: a button's effect (a silence, a Sentry resolve) must not
                # be repeated by a queue retry; the clicker is told if it failed.
                await deps.jobs.enqueue(
                    "card_button",
                    retries=1,
                    action=action,
                    card_id=ref.c,
                    user=user,
                    response_url=url,
                )
                text = None
        except REDIS_ERRORS:
            text = STORE_DOWN
        if text and url:
            await PooledRespond(deps.http, url)(
                text=text, response_type="ephemeral", replace_original=False
            )

    for action in all_buttons(deps):
        bolt.action(action)(listener)


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
        error_id = secrets.token_hex(4)
        log.exception("button %s on %s failed (error id %s)", action, card_id, error_id)
        sentry_sdk.capture_exception(exc)
        text = (
            "Seawall failed to handle that; nothing was changed. "
            f"Details are in Seawall's logs (error id {error_id})."
        )
    if response_url:
        await PooledRespond(deps.http, response_url)(
            text=text, response_type="ephemeral", replace_original=False
        )


JOBS = {"card_button": card_button}
