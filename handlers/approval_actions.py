"""Buttons and the checklist on change-request cards (the checklist is ticked after the ack)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import approval_flow
from bot.cards.approval import read_checklist_click
from bot.cards.common import ActionId
from bot.deps import Deps
from bot.errors import StoreUnavailable
from handlers.actions import NOT_A_CARD, STORE_DOWN, CardWork, tell
from handlers.after_ack import after_ack
from handlers.reactions import USER_ID

NOT_A_PERSON = "Seawall could not tell who clicked; nothing was recorded."


def person(user: dict[str, Any]) -> str | None:
    """The clicking user's id, when it looks like one (it ends up in mentions on the card)."""
    user_id = str(user.get("id") or "")
    return user_id if re.fullmatch(USER_ID, user_id) else None


def checklist_click(body: dict[str, Any]) -> tuple[str, str, dict[int, bool]] | None:
    """(channel, message ts, changes) of a checklist click, or None when it is not one."""
    container = body.get("container") or {}
    actions = body.get("actions") or []
    if not actions or not container.get("channel_id") or not container.get("message_ts"):
        return None
    action = actions[0]
    selected = [str(o.get("value")) for o in action.get("selected_options") or []]
    changes = read_checklist_click(str(action.get("block_id") or ""), selected)
    if changes is None:
        return None
    return str(container["channel_id"]), str(container["message_ts"]), changes


def buttons(deps: Deps) -> dict[ActionId, CardWork]:
    async def approve(card_id: str, user: dict[str, Any]) -> str:
        user_id = person(user)
        if user_id is None:
            return NOT_A_PERSON
        return await approval_flow.approve(deps, card_id, user_id, "button")

    async def mark_done(card_id: str, user: dict[str, Any]) -> str:
        user_id = person(user)
        return await approval_flow.mark_done(deps, card_id, user_id) if user_id else NOT_A_PERSON

    async def cancel(card_id: str, user: dict[str, Any]) -> str:
        user_id = person(user)
        return await approval_flow.cancel(deps, card_id, user_id) if user_id else NOT_A_PERSON

    return {
        ActionId.APPROVE: approve,
        ActionId.APPROVAL_DONE: mark_done,
        ActionId.APPROVAL_CANCEL: cancel,
    }


def register(bolt: AsyncApp, deps: Deps) -> None:

    async def checklist(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        after_ack(tick_checklist(deps, body, respond), "checklist tick")

    bolt.action(ActionId.APPROVAL_CHECKLIST.value)(checklist)


async def tick_checklist(deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
    click = checklist_click(body)
    user_id = person(body.get("user") or {})
    if click is None or user_id is None:
        await tell(respond, NOT_A_CARD if click is None else NOT_A_PERSON)
        return
    channel, ts, changes = click
    try:
        card_id = await deps.store.card_for_message(channel, ts)
        if card_id is None:
            text = NOT_A_CARD
        else:
            text = await approval_flow.tick(deps, card_id, user_id, changes)
    except StoreUnavailable:
        text = STORE_DOWN
    if text:
        await tell(respond, text)
