"""Buttons on run cards: the human decision after an interrupted step, and Abort."""

from __future__ import annotations

from typing import Any

from bot.cards.common import ActionId
from bot.deps import Deps
from handlers.actions import CardWork
from playbooks.engine import abort_run, decide_interrupted

RUN_PREFIX = "run-"


def buttons(deps: Deps) -> dict[ActionId, CardWork]:
    async def may_decide(user_id: str, requested_by: str) -> bool:
        # The operator who started it, or anyone allowed to approve risky changes.
        return user_id == requested_by or user_id in deps.config.approvers.users

    def decision(choice: str) -> CardWork:
        async def work(card_id: str, user: dict[str, Any]) -> str:
            run_id = card_id.removeprefix(RUN_PREFIX)
            card = await deps.store.get_card(card_id)
            requested_by = getattr(card.subject, "requested_by", "") if card else ""

            async def allowed(user_id: str) -> bool:
                return await may_decide(user_id, requested_by)

            return await decide_interrupted(deps, run_id, user["id"], choice, allowed)

        return work

    async def abort(card_id: str, user: dict[str, Any]) -> str:
        card = await deps.store.get_card(card_id)
        requested_by = getattr(card.subject, "requested_by", "") if card else ""
        if not await may_decide(user["id"], requested_by):
            return f"Only <@{requested_by}> or an approver can abort this run; nothing changed."
        run = await abort_run(deps, card_id.removeprefix(RUN_PREFIX), user["id"], "from Slack")
        if run is None:
            return "This run has already ended; nothing was changed."
        return "Aborted: no further step will start (a step already running finishes first)."

    return {
        ActionId.RUN_RERUN: decision("rerun"),
        ActionId.RUN_SKIP: decision("skip"),
        ActionId.RUN_ABORT: abort,
    }
