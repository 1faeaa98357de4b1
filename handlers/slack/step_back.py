"""The step-back prompt's buttons and its type-the-name modal.

Confirm and Cancel are card buttons (handlers/slack/buttons.py: ack, then the worker). A
high-risk Confirm needs the click's trigger_id to open a modal, so it has its own listener
(trigger ids expire in seconds: no queue hop there); the modal's submission is
checked before it is acknowledged, because a wrong name must come back as an error in the
modal itself (`response_action: errors`), which only the ack can carry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.access.rules import playbook_action
from bot.cards.common import ActionId
from bot.cards.prompt import TYPED_ACTION, TYPED_BLOCK, TYPED_CONFIRM_CALLBACK, typed_confirm_view
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.step_back import flow as step_back
from handlers.slack import access
from handlers.slack.access import playbook_card_action
from handlers.slack.after_ack import after_ack
from handlers.slack.buttons import NOT_A_CARD, STORE_DOWN, card_ref, tell
from handlers.slack.feature import Button, Feature
from handlers.slack.respond import tell_beside_card

log = logging.getLogger("seawall.step_back")

MODAL_FAILED = (
    "Slack did not open the confirmation dialog ({error}); nothing was confirmed. "
    "Press Confirm again."
)


def typed_value(view: dict[str, Any]) -> str:
    """What the operator typed in the modal ('' when the field is missing)."""
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(TYPED_BLOCK) or {}).get(TYPED_ACTION) or {}
    return str(field.get("value") or "")


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def confirm(card_id: str, user: dict[str, Any]) -> str:
        return (await step_back.confirm(deps, card_id, user["id"])).text

    async def cancel(card_id: str, user: dict[str, Any]) -> str:
        return (await step_back.cancel(deps, card_id, user["id"])).text

    return {
        ActionId.PROMPT_CONFIRM: Button(confirm, playbook_card_action),
        ActionId.PROMPT_CANCEL: Button(cancel),
    }


def register(bolt: AsyncApp, deps: Deps) -> None:

    @bolt.action(ActionId.PROMPT_CONFIRM_TYPED.value)
    async def open_typed_confirm(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        # views.open is a call to Slack: after the ack, still well inside the trigger's 3 s.
        after_ack(open_typed_confirm_modal(deps, body, respond), "typed-confirm modal")

    @bolt.view(TYPED_CONFIRM_CALLBACK)
    async def typed_confirm_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        view, user_id = body["view"], body["user"]["id"]
        card_id = str(view.get("private_metadata") or "")
        try:
            refusal = await role_refusal(deps, card_id, user_id)
            if refusal is not None:
                await ack()
                after_ack(tell_beside_card(deps, card_id, user_id, refusal), "confirm refusal")
                return
            outcome = await step_back.confirm(deps, card_id, user_id, typed_value(view))
        except StoreUnavailable:
            await ack(response_action="errors", errors={TYPED_BLOCK: STORE_DOWN})
            return
        if outcome.retype:
            await ack(response_action="errors", errors={TYPED_BLOCK: outcome.text})
            return
        await ack()
        if not outcome.ok:
            # Modal errors are plain text (no mentions, no dates): say it beside the card.
            after_ack(tell_beside_card(deps, card_id, user_id, outcome.text), "confirm answer")


async def open_typed_confirm_modal(deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
    ref = card_ref(body)
    if ref is None:
        await tell(respond, NOT_A_CARD)
        return
    try:
        checked = await step_back.typed_confirm_check(deps, ref.c, body["user"]["id"])
    except StoreUnavailable:
        await tell(respond, STORE_DOWN)
        return
    if isinstance(checked, str):
        await tell(respond, checked)
        return
    refusal = await access.action_refusal(
        deps, body["user"]["id"], action=playbook_action(checked.playbook)
    )
    if refusal is not None:
        await tell(respond, refusal)
        return
    try:
        await deps.slack.views_open(
            trigger_id=body["trigger_id"], view=typed_confirm_view(ref.c, checked)
        )
    except SlackApiError as exc:
        log.warning("views.open for %s failed: %s", ref.c, exc.response.get("error"))
        await tell(respond, MODAL_FAILED.format(error=exc.response.get("error")))


async def role_refusal(deps: Deps, card_id: str, user_id: str) -> str | None:
    """Why `user_id` may not confirm the prompt's step (their role), or None."""
    card = await deps.store.get_card(card_id)
    action = access.playbook_card_action(card) if card is not None else None
    return await access.action_refusal(deps, user_id, action=action)


FEATURE = Feature(name="step_back", buttons=buttons, jobs=step_back.JOBS, register=register)
