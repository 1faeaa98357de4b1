"""Four-eyes approvals at work: create change-request cards, apply what people do to them,
tell the playbook engine where a step's approval stands, and expire what nobody approved.

Every change is one `mutate_card` applying a pure rule from bot/approvals/rules.py to the state as
stored (compare-and-set), so a Slack retry, a second reaction or a double click meets the
state the first one left and changes nothing. Effects that follow a change (timeline entry,
waking the run) happen only for the delivery whose mutation was written.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from bot.approvals import effects, rules
from bot.approvals.approvers import MembershipUnknown, is_eligible
from bot.approvals.rules import ChecklistChoice, DecisionState, Outcome
from bot.deps import Deps
from bot.models.approval import (
    OPEN_STATES,
    Approval,
    ChecklistItem,
    Via,
    approval_card_id,
    is_past_expiry,
)
from bot.models.card import TriageCard
from bot.models.run import PlaybookRun, run_card_id
from bot.store import CardMutation

log = logging.getLogger("seawall.approvals")

CARD_GONE = "This change request is no longer in Seawall's store; nothing was recorded."


class ApprovalDecision(NamedTuple):
    state: DecisionState
    approved_by: str | None
    at: datetime | None


# --- creating requests -------------------------------------------------------------------
async def request_for_step(deps: Deps, run: PlaybookRun, step_index: int) -> str:
    """Ask for approval of a four_eyes step; idempotent (one request per run and step)."""
    step = run.steps[step_index]
    again = f"-{step.approval_attempt}" if step.approval_attempt else ""  # after "Ask again"
    approval = _new_approval(
        deps,
        approval_id=f"{run.run_id}-{step_index}{again}",
        description=step.description,
        requested_by=run.requested_by,
        channel=run.channel,
        incident_id=run.incident_id,
        checklist=ChecklistChoice(items=()),
    )
    approval.run_id, approval.step_index = run.run_id, step_index
    approval.playbook, approval.step_name, approval.target = run.playbook, step.name, step.target
    return await _create(deps, approval)


async def request_change(
    deps: Deps,
    *,
    description: str,
    requested_by: str,
    channel: str,
    incident_id: str | None,
    request_key: str | None = None,
    checklist: ChecklistChoice | None = None,
) -> str:
    """A standalone change request (/incident change). `request_key` (e.g. the command's
    trigger_id) makes a repeated delivery of the same command create nothing new. Without a
    `checklist` chosen, the description's words pick one (rules.choose_checklist)."""
    key = request_key or secrets.token_hex(8)
    if checklist is None:
        checklist = rules.choose_checklist(deps.config.approvers, description)
    approval = _new_approval(
        deps,
        approval_id="chg-" + hashlib.sha256(key.encode()).hexdigest()[:12],
        description=description,
        requested_by=requested_by,
        channel=channel,
        incident_id=incident_id,
        checklist=checklist,
    )
    return await _create(deps, approval)


def _new_approval(
    deps: Deps,
    *,
    approval_id: str,
    description: str,
    requested_by: str,
    channel: str,
    incident_id: str | None,
    checklist: ChecklistChoice,
) -> Approval:
    cfg = deps.config.approvers
    now = deps.clock.now()
    return Approval(
        approval_id=approval_id,
        description=description,
        requested_by=requested_by,
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(minutes=cfg.expire_minutes),
        incident_id=incident_id,
        approver_users=list(cfg.users),
        approver_usergroups=list(cfg.usergroups),
        reaction=cfg.reaction,
        checklist=[ChecklistItem(text=text) for text in checklist.items],
        checklist_sources=list(checklist.sources),
    )


async def _create(deps: Deps, approval: Approval) -> str:
    card_id = approval_card_id(approval.approval_id)
    now = approval.created_at

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is not None:
            return None  # already requested: a retry or a resumed run
        new = TriageCard(
            card_id=card_id,
            channel=approval.channel,
            subject=approval,
            created_at=now,
            updated_at=now,
        )
        return CardMutation(card=new)

    result = await deps.store.mutate_card(card_id, mutate)
    stored = result.card.subject if result.card else approval
    if result.changed:
        await effects.record(
            deps, approval, f"Approval requested: {approval.description}", approval.requested_by
        )
    if isinstance(stored, Approval) and stored.state in OPEN_STATES:
        # Every call (re)schedules expiry, so a crash right after creating the card is healed
        # by the next call; the job's key makes repeats no-ops.
        delay = max(0.0, (stored.expires_at - deps.clock.now()).total_seconds())
        key = stored.approval_id
        await effects.enqueue(deps, "expire_approval", key, delay, approval_id=key)
    return approval.approval_id


# --- the engine's view -------------------------------------------------------------------
async def step_decision(deps: Deps, approval_id: str) -> ApprovalDecision:
    card_id = approval_card_id(approval_id)
    approval = await effects.load(deps, card_id)
    if approval is None:
        return ApprovalDecision("cancelled", None, None)
    now = deps.clock.now()
    if is_past_expiry(approval, now):
        await effects.apply(deps, card_id, None, partial(rules.expire, now=now))
        approval = await effects.load(deps, card_id) or approval
    state = rules.decision_state(approval, now)
    if state == "approved":
        return ApprovalDecision(state, approval.approved_by, approval.approved_at)
    return ApprovalDecision(state, None, approval.expires_at if state == "expired" else None)


async def cancel_request(deps: Deps, approval_id: str, reason: str) -> None:
    """Call a request off for Seawall (e.g. the engine aborted the run). `reason` completes
    "This request was …", e.g. "cancelled because the run was aborted"."""
    now = deps.clock.now()
    rule = partial(rules.cancel, user=None, now=now, reason=reason)
    await effects.apply(deps, approval_card_id(approval_id), None, rule)


async def mark_executed(deps: Deps, approval_id: str) -> bool:
    """The engine runs the step now: from here on, removing the reaction changes nothing.
    False when the approval is not (or no longer) complete."""
    card_id = approval_card_id(approval_id)
    now = deps.clock.now()
    await effects.apply(deps, card_id, None, partial(rules.execute, user=None, now=now))
    approval = await effects.load(deps, card_id)
    return approval is not None and approval.state == "executed"


# --- what people do ------------------------------------------------------------------------
async def approve(deps: Deps, card_id: str, user: str, via: Via) -> str:
    """Approve by button or reaction; returns the sentence for that person."""
    approval = await effects.load(deps, card_id)
    if approval is None:
        return CARD_GONE
    now = deps.clock.now()
    ended = await _run_ended(deps, approval)
    if ended:
        rule = partial(rules.cancel, user=None, now=now, reason=ended)
        outcome = await effects.apply(deps, card_id, None, rule)
        return outcome.message if outcome else CARD_GONE
    try:
        eligible = await is_eligible(deps.slack, approval, user)
    except MembershipUnknown as exc:
        return str(exc)
    rule = partial(rules.approve, user=user, eligible=eligible, via=via, now=now)
    outcome = await effects.apply(deps, card_id, user, rule)
    return outcome.message if outcome else CARD_GONE


# Why this person may not approve (their role), or None: given by the composition root, so
# approvals know nothing of access configuration.
ApproveGuard = Callable[[str], Awaitable[str | None]]


async def react(
    deps: Deps,
    channel: str,
    ts: str,
    user: str,
    reaction: str,
    *,
    added: bool,
    may_approve: ApproveGuard | None = None,
) -> str | None:
    """A reaction on a message: approve/withdraw when it is the approve emoji on a change
    request. Returns the sentence for the reacting person, or None to stay quiet. Taking an
    approval back needs no permission; giving one asks `may_approve` first."""
    card_id = await deps.store.card_for_message(channel, ts)
    approval = await effects.load(deps, card_id) if card_id else None
    if card_id is None or approval is None:
        return None
    if not rules.is_approve_reaction(reaction, approval.reaction):
        return None
    if added:
        if approval.approved_by == user:
            return None  # a repeat of a reaction that already counts
        refusal = await may_approve(user) if may_approve is not None else None
        if refusal is not None:
            return refusal
        text = await approve(deps, card_id, user, "reaction")
        return None if text == rules.ALREADY_YOURS else text
    now = deps.clock.now()
    outcome = await effects.apply(deps, card_id, user, partial(rules.withdraw, user=user, now=now))
    return (outcome.message or None) if outcome else None


async def tick(deps: Deps, card_id: str, user: str, changes: dict[int, bool]) -> str:
    """Checklist clicks; returns "" when there is nothing to tell the person."""
    approval = await effects.load(deps, card_id)
    if approval is None:
        return CARD_GONE
    try:
        eligible = user != approval.requested_by and await is_eligible(deps.slack, approval, user)
    except MembershipUnknown as exc:
        return str(exc)
    now = deps.clock.now()
    rule = partial(rules.tick, user=user, changes=changes, eligible=eligible, now=now)
    outcome = await effects.apply(deps, card_id, user, rule)
    if outcome and outcome.message:
        await effects.redraw(deps, card_id)  # Slack shows the refused tick until the card changes
    return outcome.message if outcome else CARD_GONE


async def mark_done(deps: Deps, card_id: str, user: str) -> str:
    now = deps.clock.now()
    outcome = await effects.apply(deps, card_id, user, partial(_standalone, user=user, now=now))
    return outcome.message if outcome else CARD_GONE


async def cancel(deps: Deps, card_id: str, user: str) -> str:
    now = deps.clock.now()
    reason = "cancelled by the requester"
    rule = partial(rules.cancel, user=user, now=now, reason=reason)
    outcome = await effects.apply(deps, card_id, user, rule)
    return outcome.message if outcome else CARD_GONE


def _standalone(a: Approval, user: str, now: datetime) -> Outcome:
    if a.is_step:
        return rules.unchanged("The playbook run carries out this step; nothing was changed.")
    return rules.execute(a, user, now)


# --- expiry --------------------------------------------------------------------------------
async def expire_approval(deps: Deps, approval_id: str) -> None:
    """Job: flip a request nobody completed in time to expired (harmless to run twice)."""
    card_id = approval_card_id(approval_id)
    approval = await effects.load(deps, card_id)
    if approval is None or approval.state not in OPEN_STATES:
        return
    now = deps.clock.now()
    ended = await _run_ended(deps, approval)
    if ended:
        await cancel_request(deps, approval_id, ended)
        return
    if now < approval.expires_at:  # ran early (clock skew between processes): come back
        delay = (approval.expires_at - now).total_seconds()
        await effects.enqueue(deps, "expire_approval", None, delay, approval_id=approval_id)
        return
    await effects.apply(deps, card_id, None, partial(rules.expire, now=now))


JOBS: dict[str, Callable[..., Awaitable[Any]]] = {"expire_approval": expire_approval}


async def _run_ended(deps: Deps, a: Approval) -> str | None:
    """Why the request is moot, when the playbook run its step belongs to has finished."""
    if not a.run_id or a.state not in OPEN_STATES:
        return None
    card = await deps.store.get_card(run_card_id(a.run_id))
    run = card.subject if card else None
    if isinstance(run, PlaybookRun) and run.status.finished:
        return f"cancelled because the playbook run ended ({run.status.value})"
    return None
