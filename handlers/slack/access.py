"""Access checks at the ways in: the guards the command and button routers ask, built from
bot/access and the facts only the composition root can join (is this an incident channel?)."""

from __future__ import annotations

from bot.access.flow import refusal_for
from bot.access.rules import changes_things, playbook_action
from bot.deps import Deps
from bot.incidents import flow as incidents
from bot.models.card import TriageCard
from bot.models.prompt import StepPrompt
from bot.models.run import PlaybookRun
from handlers.slack.feature import Button, Invocation, Subcommand


async def command_refusal(deps: Deps, sub: Subcommand, inv: Invocation) -> str | None:
    """Why `inv`'s sender may not run this subcommand in this channel; None when they may."""
    action = sub.action_for(inv)
    if action is None:
        return None
    access = deps.config.access
    incident_channel = bool(
        access is not None
        and access.channels
        and changes_things(action)
        and inv.channel_id not in access.channels
        and await incidents.incident_for_channel(deps, inv.channel_id) is not None
    )
    return await refusal_for(
        access,
        deps.slack,
        inv.user_id,
        action,
        channel=inv.channel_id,
        incident_channel=incident_channel,
        also_holds=await _on_call_roles(deps, inv.user_id, action),
    )


async def button_refusal(deps: Deps, button: Button, card_id: str, user_id: str) -> str | None:
    """Why `user_id` may not press `button` on card `card_id`; None when they may."""
    card = await deps.store.get_card(card_id) if callable(button.action) else None
    return await action_refusal(deps, user_id, action=button.action_for(card))


async def action_refusal(deps: Deps, user_id: str, *, action: str | None) -> str | None:
    """For listeners outside the routers (reactions, checklist ticks, the typed confirm)."""
    also = await _on_call_roles(deps, user_id, action)
    return await refusal_for(deps.config.access, deps.slack, user_id, action, also_holds=also)


async def _on_call_roles(deps: Deps, user_id: str, action: str | None) -> set[str]:
    """The on-call person counts as a responder while on call (paging knows who that is)."""
    return await deps.extra_roles(user_id, action)


def playbook_card_action(card: TriageCard) -> str | None:
    """`playbook.<name>` of the run a run card or step-back prompt belongs to."""
    subject = card.subject
    if isinstance(subject, PlaybookRun | StepPrompt):
        return playbook_action(subject.playbook)
    return None
