"""Four-eyes approval requests: a different authorised person must approve.

The rules as pure functions: each takes the stored request and what someone
did, and returns an `Outcome` (the new request or None for "nothing changes", and a sentence
for that person). bot/approvals/flow.py applies them inside an atomic card mutation, so Slack
retries, duplicate reactions and double clicks meet the state the first one left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.config import Approvers
from bot.models.approval import (
    OPEN_STATES,
    Approval,
    ChecklistSource,
    Via,
    Withdrawal,
    checklist_done,
    is_complete,
    is_past_expiry,
    mention,
    who_can_approve,
)

# Events worth a timeline entry (and, for step approvals, a look by the engine).
Event = Literal["approved", "withdrawn", "ticked", "expired", "executed", "cancelled"]
# Slack reports a reaction by its canonical name ("+1"); people configure either spelling.
REACTION_ALIASES = {"thumbsup": "+1", "thumbsdown": "-1"}


@dataclass(frozen=True)
class Outcome:
    approval: Approval | None  # the new state to store; None: nothing changes
    message: str  # for the person who acted ("" when there is nothing to tell)
    event: Event | None = None
    reply: str | None = None  # a line for the card's thread


ALREADY_YOURS = "You already approved this; nothing changed."
NOT_APPROVED = (
    "This change is not approved yet; nothing was changed. Someone from the approver group "
    "must approve it first."
)


def unchanged(message: str = "") -> Outcome:
    return Outcome(None, message)


# --- which checklist ---------------------------------------------------------------------
@dataclass(frozen=True)
class ChecklistChoice:
    """The items a change request must have ticked, and the named checklists they come from
    (none: the default `change_checklist`)."""

    items: tuple[str, ...]
    sources: tuple[ChecklistSource, ...] = ()


def mentions_word(description: str, word: str) -> bool:
    """`word` appears in `description` as a whole word (or words), in any case: "db" picks
    "failover db-2" and "orders_db", not "dbadmin" or "pgbouncer"."""
    pattern = rf"(?<![^\W_]){re.escape(word.casefold())}(?![^\W_])"
    return re.search(pattern, " ".join(description.casefold().split())) is not None


def unknown_checklist(approvers: Approvers, name: str) -> str | None:
    """Why `name` cannot be chosen (no such checklist), or None when it can."""
    if name in approvers.checklists:
        return None
    if not approvers.checklists:
        return (
            f"There is no checklist called `{name}`: no named checklists are configured "
            "(`approvers.checklists` in SEAWALL_CONFIG). Nothing was created; leave out "
            "`--checklist`, or ask an admin to add one."
        )
    known = ", ".join(f"`{known}`" for known in approvers.checklists)
    return f"There is no checklist called `{name}`; nothing was created. Known checklists: {known}."


def choose_checklist(
    approvers: Approvers, description: str, chosen: str | None = None
) -> ChecklistChoice:
    """The checklist of a change request: the one its requester chose by name (which must
    exist: see `unknown_checklist`), else every named checklist one of whose words is in the
    description (in config order, items not repeated), else the default `change_checklist`."""
    if chosen is not None:
        return ChecklistChoice(
            tuple(approvers.checklists[chosen].items), (ChecklistSource(name=chosen),)
        )
    items: list[str] = []
    sources: list[ChecklistSource] = []
    for name, checklist in approvers.checklists.items():
        word = next((w for w in checklist.match if mentions_word(description, w)), None)
        if word is not None:
            sources.append(ChecklistSource(name=name, matched=word))
            items.extend(item for item in checklist.items if item not in items)
    if not sources:
        return ChecklistChoice(tuple(approvers.change_checklist))
    return ChecklistChoice(tuple(items), tuple(sources))


def counts_now(a: Approval) -> str:
    """The thread reply's words when a request starts to count (approved, checklist done)."""
    if a.is_step:
        return "It counts now: the playbook run continues."
    return f"It counts now: {mention(a.requested_by)} can carry it out, then press *Mark as done*."


def canonical_reaction(name: str) -> str:
    """The reaction without skin tone, under Slack's canonical name."""
    base = name.split("::", 1)[0]
    return REACTION_ALIASES.get(base, base)


def is_approve_reaction(name: str, configured: str) -> bool:
    return bool(name) and canonical_reaction(name) == canonical_reaction(configured)


def _closed_message(a: Approval) -> str:
    if a.state == "executed":
        return "This change was already carried out; approvals no longer change anything."
    if a.state == "cancelled":
        return "This request was cancelled; nothing was recorded. Ask for a new one if needed."
    return (
        "This request expired without being carried out; nothing was recorded. "
        "Ask the requester to make a new one."
    )


def expire(a: Approval, now: datetime) -> Outcome:
    """Flip an open request whose time is up to expired (idempotent)."""
    if not is_past_expiry(a, now):
        return unchanged()
    new = a.model_copy(deep=True)
    new.state = "expired"
    reply = "⌛ This request expired" + (
        " before it was carried out." if a.state == "approved" else " without an approval."
    )
    return Outcome(new, _closed_message(new), "expired", reply)


def approve(a: Approval, user: str, *, eligible: bool, via: Via, now: datetime) -> Outcome:
    """Someone approves (reaction or button). Only an eligible person other than the requester
    counts; the first approval stands, repeats change nothing."""
    if is_past_expiry(a, now):
        return expire(a, now)
    if a.state not in OPEN_STATES:
        return unchanged(_closed_message(a))
    if user == a.requested_by:
        return unchanged(
            "You requested this change, so your own approval does not count: four-eyes means "
            "someone else must approve. Nothing was recorded. "
            f"Who can approve: {who_can_approve(a)}."
        )
    if not eligible:
        return unchanged(
            "Your approval does not count: you are not in the approver group for changes. "
            f"Nothing was recorded. Who can approve: {who_can_approve(a)}."
        )
    if a.state == "approved":
        if a.approved_by == user:
            return unchanged(ALREADY_YOURS)
        return unchanged(
            f"Already approved by {mention(a.approved_by or '?')}; your approval was not needed."
        )
    new = a.model_copy(deep=True)
    new.state, new.approved_by, new.approved_at, new.approved_via = "approved", user, now, via
    if checklist_done(new):
        return Outcome(
            new,
            "Approved. The card shows it to everyone.",
            "approved",
            f"✅ {mention(user)} approved this ({via}). {counts_now(new)}",
        )
    ticked = sum(1 for item in new.checklist if item.ticked_by)
    return Outcome(
        new,
        "Approved. The card shows it to everyone. The checklist still has unticked items.",
        "approved",
        f"⏳ {mention(user)} approved this ({via}); it counts once every checklist item is "
        f"ticked ({ticked} of {len(new.checklist)} so far).",
    )


def withdraw(a: Approval, user: str, now: datetime) -> Outcome:
    """The approver took the approve reaction away before execution: pending again."""
    if a.state != "approved" or a.approved_by != user or is_past_expiry(a, now):
        return unchanged()
    new = a.model_copy(deep=True)
    new.withdrawals.append(Withdrawal(user_id=user, at=now))
    new.state, new.approved_by, new.approved_at, new.approved_via = "pending", None, None, None
    return Outcome(
        new,
        "Your approval is withdrawn; the request is pending again.",
        "withdrawn",
        f"↩️ {mention(user)} withdrew their approval; the request is pending again.",
    )


def tick(
    a: Approval, user: str, changes: dict[int, bool], *, eligible: bool, now: datetime
) -> Outcome:
    """Tick or untick checklist items. The requester and the approvers may; "set to" semantics
    make a repeated delivery of the same click a no-op."""
    if is_past_expiry(a, now):
        return expire(a, now)
    if a.state not in OPEN_STATES:
        return unchanged(_closed_message(a))
    if user != a.requested_by and not eligible:
        return unchanged(
            "Only the requester and the approvers can tick this checklist; nothing was changed. "
            f"Who can approve: {who_can_approve(a)}."
        )
    new = a.model_copy(deep=True)
    changed = False
    for index, wanted in changes.items():
        if not 0 <= index < len(new.checklist):
            continue
        item = new.checklist[index]
        if wanted and item.ticked_by is None:
            item.ticked_by, item.ticked_at, changed = user, now, True
        elif not wanted and item.ticked_by is not None:
            item.ticked_by, item.ticked_at, changed = None, None, True
    if not changed:
        return unchanged()
    return Outcome(new, "", "ticked", _tick_reply(a, new, user))


def _tick_reply(before: Approval, after: Approval, user: str) -> str | None:
    """A thread reply when ticks make the request count, or stop it counting."""
    if is_complete(after) and not is_complete(before):
        return (
            f"✅ Every checklist item is ticked and {mention(after.approved_by or '?')} "
            f"approved. {counts_now(after)}"
        )
    if is_complete(before) and not is_complete(after):
        return (
            f"⏳ {mention(user)} unticked a checklist item: this change no longer counts as "
            "approved until it is ticked again."
        )
    return None


def execute(a: Approval, user: str | None, now: datetime) -> Outcome:
    """Mark as carried out. `user` None is the engine (step approvals); a person may do it
    only for their own standalone change request."""
    if a.state == "executed":
        return unchanged("This change is already marked as done.")
    if is_past_expiry(a, now):
        return expire(a, now)
    if user is not None and user != a.requested_by:
        return unchanged(
            f"Only the requester ({mention(a.requested_by)}) can mark this change as done; "
            "nothing was changed."
        )
    if a.state != "approved":
        return unchanged(_closed_message(a) if a.state not in OPEN_STATES else NOT_APPROVED)
    if not checklist_done(a):
        return unchanged(
            "Every checklist item must be ticked before the change counts as approved; "
            "nothing was changed. Tick the remaining items on the card first."
        )
    new = a.model_copy(deep=True)
    new.state, new.executed_at, new.executed_by = "executed", now, user
    who = mention(user) if user else "Seawall"
    return Outcome(new, "Marked as done.", "executed", f"🚀 {who} carried out this change.")


def cancel(a: Approval, user: str | None, now: datetime, reason: str) -> Outcome:
    """Call the request off: its requester, or Seawall (`user` None) when the run ended.
    `reason` is plain text completing "This request was …"."""
    del now
    if a.state not in OPEN_STATES:
        return unchanged(_closed_message(a))
    if user is not None and user != a.requested_by:
        return unchanged(
            f"Only the requester ({mention(a.requested_by)}) can cancel this request; "
            "nothing was changed."
        )
    new = a.model_copy(deep=True)
    new.state, new.ended_reason = "cancelled", reason
    message = (
        "Cancelled. The card shows it to everyone."
        if user
        else f"This request was {reason}; nothing was recorded."
    )
    return Outcome(new, message, "cancelled", f"🚫 This request was {reason}.")


DecisionState = Literal["approved", "pending", "expired", "withdrawn", "cancelled"]


def decision_state(a: Approval, now: datetime) -> DecisionState:
    """What the engine sees. A withdrawn approval reopens the request, so it reads "pending"
    (the engine ends the run on anything but pending/approved)."""
    if a.state == "executed":
        return "approved"
    if is_past_expiry(a, now) or a.state == "expired":
        return "expired"
    if a.state == "cancelled":
        return "cancelled"
    return "approved" if is_complete(a) else "pending"
