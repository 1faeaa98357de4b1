"""Four-eyes approvals from Slack: `/incident change [--checklist <name>] <description>`, the
buttons and the checklist on change-request cards, and the approve reaction.

Buttons run in the worker (buttons.py). The checklist is ticked after the ack. Reactions run
after build_bolt's event de-duplication (a Slack retry never arrives here twice); real reaction
payloads come with blank values or without event_id (docs/decisions.md), so anything that
does not parse is ignored. Reaction events carry no response_url, so the reacting person is
answered with chat.postEphemeral.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.approvals import flow as approval_flow
from bot.approvals import rules as approval_rules
from bot.approvals.rules import ChecklistChoice
from bot.cards.approval import read_checklist_click
from bot.cards.common import ActionId, escape, safe_text
from bot.changes import flow as changes
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.incidents import flow as incidents
from bot.models.approval import Approval
from bot.models.change import Change
from handlers.slack import access
from handlers.slack.after_ack import after_ack
from handlers.slack.buttons import NOT_A_CARD, STORE_DOWN, tell
from handlers.slack.feature import Button, Feature, Invocation, Reply, Subcommand

log = logging.getLogger("seawall.approvals")

USER_ID = r"^[UW][A-Z0-9]{2,}$"
REACTION_STORE_DOWN = (
    "Seawall cannot reach its database right now, so your reaction was not recorded. "
    "Remove it and add it again in a minute."
)

DESCRIPTION_MAX = 2000
USAGE = (
    "Usage: `/incident change [--checklist <name>] <what you are about to change>`, e.g. "
    "`/incident change move orders consumers to the new topic`. Someone from the approver "
    "group must approve it before you carry it out; without `--checklist`, the words of the "
    "description pick the checklist to tick."
)
CHECKLIST_OPTION = re.compile(r"(?:^|\s)--checklist(?:=|\s+)(?!--)(\S+)", re.IGNORECASE)
DANGLING_CHECKLIST = re.compile(r"(?:^|\s)--checklist=?(?:\s*$|\s+--)", re.IGNORECASE)


def parse_change(text: str) -> tuple[str, str | None] | str:
    """(description, chosen checklist name or None), or the sentence saying what is wrong:
    `--checklist database restart the replica` (anywhere in the text, once)."""
    if DANGLING_CHECKLIST.search(text):
        return f"`--checklist` needs a checklist's name; nothing was created. {USAGE}"
    names = CHECKLIST_OPTION.findall(text)
    if len(names) > 1:
        return f"Give `--checklist` once; nothing was created. {USAGE}"
    description = CHECKLIST_OPTION.sub(" ", text).strip()
    return description, names[0].lower() if names else None


def checklist_phrase(choice: ChecklistChoice) -> str:
    """How the answer to the requester names what must be ticked ("" when nothing)."""
    if not choice.items:
        return ""
    if not choice.sources:
        return " and every checklist item is ticked"
    names = ", ".join(f"*{safe_text(s.name, 40)}*" for s in choice.sources)
    plural = "s" if len(choice.sources) > 1 else ""
    return f" and every item of the {names} checklist{plural} is ticked"


async def incident_here(deps: Deps, channel: str) -> str | None:
    """The incident whose channel this is, for the request's timeline (None elsewhere)."""
    incident = await incidents.incident_for_channel(deps, channel)
    return incident.incident_id if incident is not None else None


async def change(deps: Deps, invocation: Invocation) -> Reply:
    parsed = parse_change(invocation.text)
    if isinstance(parsed, str):
        return Reply(parsed)
    description, chosen = parsed
    if not description:
        return Reply(USAGE)
    if len(description) > DESCRIPTION_MAX:
        return Reply(
            f"That description is {len(description)} characters; the limit is "
            f"{DESCRIPTION_MAX}. Nothing was created: shorten it and link to the details."
        )
    if not re.fullmatch(r"[CG][A-Z0-9]{2,}", invocation.channel_id):
        return Reply(
            "A change request needs a channel where approvers can see it; nothing was "
            "created. Run the command in your team's or the incident's channel."
        )
    if not re.fullmatch(USER_ID, invocation.user_id):
        return Reply("Seawall could not tell who you are; nothing was created.")
    approvers = deps.config.approvers
    if not approvers.users and not approvers.usergroups:
        return Reply(
            "Nobody could approve this: no approvers are configured. Nothing was created; "
            "ask an admin to set `approvers.users` or `approvers.usergroups` in SEAWALL_CONFIG."
        )
    unknown = approval_rules.unknown_checklist(approvers, chosen) if chosen else None
    if unknown is not None:
        return Reply(escape(unknown))
    checklist = approval_rules.choose_checklist(approvers, description, chosen)
    await approval_flow.request_change(
        deps,
        description=description,
        requested_by=invocation.user_id,
        channel=invocation.channel_id,
        incident_id=await incident_here(deps, invocation.channel_id),
        request_key=invocation.trigger_id,
        checklist=checklist,
    )
    return Reply(
        f"Change request posted in this channel: “{escape(description[:200])}”. It counts "
        f"once someone else from the approver group approves it (:{approvers.reaction}: or "
        f"*Approve*){checklist_phrase(checklist)}; it expires in {approvers.expire_minutes} "
        "minutes. "
        "Then press *Mark as done* when you have carried it out."
    )


SUBCOMMANDS = [
    Subcommand(
        command="/incident",
        name="change",
        usage="change [--checklist <name>] <description>",
        summary="ask someone from the approver group to approve an infrastructure change",
        handler=change,
        action="incident.change",
    )
]


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


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def approve(card_id: str, user: dict[str, Any]) -> str:
        user_id = person(user)
        if user_id is None:
            return NOT_A_PERSON
        return await approval_flow.approve(deps, card_id, user_id, "button")

    async def mark_done(card_id: str, user: dict[str, Any]) -> str:
        user_id = person(user)
        if user_id is None:
            return NOT_A_PERSON
        text = await approval_flow.mark_done(deps, card_id, user_id)
        await record_carried_out(deps, card_id)
        return text

    async def cancel(card_id: str, user: dict[str, Any]) -> str:
        user_id = person(user)
        return await approval_flow.cancel(deps, card_id, user_id) if user_id else NOT_A_PERSON

    return {
        # Who may approve is also the request's approver group (bot/approvals/approvers.py);
        # marking done and cancelling are the requester's own (bot/approvals/rules.py).
        ActionId.APPROVE: Button(approve, "approval.approve"),
        ActionId.APPROVAL_DONE: Button(mark_done),
        ActionId.APPROVAL_CANCEL: Button(cancel),
    }


async def record_carried_out(deps: Deps, card_id: str) -> None:
    """An approved change carried out is a change: "what changed?" shows it on later cards.
    Recorded once (its id is the request's), whichever click got there first."""
    card = await deps.store.get_card(card_id)
    approval = card.subject if card is not None else None
    if not isinstance(approval, Approval) or approval.state != "executed":
        return
    change = Change(
        change_id=f"approval-{approval.approval_id}",
        summary=approval.description,
        at=approval.executed_at or deps.clock.now(),
        source="approval",
        author_slack_id=approval.requested_by,
    )
    await changes.record(
        change, redis=deps.redis, retention=deps.config.retention, now=deps.clock.now()
    )


def register_checklist(bolt: AsyncApp, deps: Deps) -> None:
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


class ReactedItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["message"]
    channel: Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,}$")]
    ts: Annotated[str, Field(pattern=r"^[1-9][0-9]*\.[0-9]+$")]


class ReactionEvent(BaseModel):
    """reaction_added / reaction_removed on a message (files and blanks do not parse)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["reaction_added", "reaction_removed"]
    user: Annotated[str, Field(pattern=USER_ID)]
    reaction: Annotated[str, Field(min_length=1, max_length=100)]
    item: ReactedItem


def parse_reaction(event: dict[str, Any]) -> ReactionEvent | None:
    try:
        return ReactionEvent.model_validate(event)
    except ValidationError:
        return None


async def tell_reactor(deps: Deps, channel: str, user: str, text: str) -> None:
    try:
        await deps.slack.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:  # e.g. user_not_in_channel: nothing else to do
        log.warning("could not answer %s in %s: %s", user, channel, exc.response.get("error"))


def register_reactions(bolt: AsyncApp, deps: Deps) -> None:
    async def on_reaction(event: dict[str, Any]) -> None:
        reaction = parse_reaction(event)
        if reaction is None:
            log.info("ignored a reaction event Seawall cannot use (type %s)", event.get("type"))
            return
        # Deciding may ask Slack who is in an approver usergroup: after the response, so a
        # slow Slack API cannot make Slack time out and retry the event.
        after_ack(handle_reaction(deps, reaction), "reaction")

    bolt.event("reaction_added")(on_reaction)
    bolt.event("reaction_removed")(on_reaction)


async def handle_reaction(deps: Deps, reaction: ReactionEvent) -> None:
    item = reaction.item
    try:
        text = await approval_flow.react(
            deps,
            item.channel,
            item.ts,
            reaction.user,
            reaction.reaction,
            added=reaction.type == "reaction_added",
            may_approve=partial(access.action_refusal, deps, action="approval.approve"),
        )
    except StoreUnavailable:
        log.error("Redis unreachable: reaction by %s on %s lost", reaction.user, item.ts)
        text = REACTION_STORE_DOWN
    if text:
        await tell_reactor(deps, item.channel, reaction.user, text)


def register(bolt: AsyncApp, deps: Deps) -> None:
    register_checklist(bolt, deps)
    register_reactions(bolt, deps)


FEATURE = Feature(
    name="approvals",
    subcommands=SUBCOMMANDS,
    buttons=buttons,
    jobs=approval_flow.JOBS,
    register=register,
)
