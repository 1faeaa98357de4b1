"""A four-eyes approval request: the model, and the questions cards and rules ask of it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ApprovalState = Literal["pending", "approved", "executed", "expired", "cancelled"]
Via = Literal["reaction", "button"]
OPEN_STATES: frozenset[str] = frozenset({"pending", "approved"})


class ChecklistItem(BaseModel):
    text: str
    ticked_by: str | None = None
    ticked_at: datetime | None = None


class ChecklistSource(BaseModel):
    """A named checklist (approvers.checklists) the request's items come from, and why."""

    name: str
    matched: str | None = None  # the word of the description that picked it; None: chosen


class Withdrawal(BaseModel):
    user_id: str
    at: datetime


class Approval(BaseModel):
    """Subject of the change-request card `approval-{approval_id}`."""

    kind: Literal["approval"] = "approval"
    approval_id: str
    description: str
    requested_by: str
    channel: str
    created_at: datetime
    expires_at: datetime
    # What approval unlocks: a playbook step, or a standalone change (/incident change).
    run_id: str | None = None
    step_index: int | None = None
    playbook: str | None = None
    step_name: str | None = None
    target: str | None = None
    incident_id: str | None = None
    # Who could approve when it was requested (the card names them; decisions follow them).
    approver_users: list[str] = Field(default_factory=list)
    approver_usergroups: list[str] = Field(default_factory=list)
    reaction: str = "white_check_mark"
    checklist: list[ChecklistItem] = Field(default_factory=list)
    # Which named checklists the items come from (empty: the default change_checklist, or a
    # request stored before checklists had names).
    checklist_sources: list[ChecklistSource] = Field(default_factory=list)
    approved_by: str | None = None
    approved_at: datetime | None = None
    approved_via: Via | None = None
    withdrawals: list[Withdrawal] = Field(default_factory=list)
    state: ApprovalState = "pending"
    executed_at: datetime | None = None
    executed_by: str | None = None
    ended_reason: str | None = None  # why it was cancelled

    @property
    def is_step(self) -> bool:
        return self.run_id is not None


def approval_card_id(approval_id: str) -> str:
    return f"approval-{approval_id}"


def checklist_done(a: Approval) -> bool:
    return all(item.ticked_by is not None for item in a.checklist)


def is_complete(a: Approval) -> bool:
    """Approved by someone else and every checklist item ticked: it may be carried out."""
    return a.state == "approved" and checklist_done(a)


def is_past_expiry(a: Approval, now: datetime) -> bool:
    return a.state in OPEN_STATES and now >= a.expires_at


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def who_can_approve(a: Approval) -> str:
    """mrkdwn naming the approvers (mentions render as names; an ephemeral notifies no one)."""
    names = [mention(u) for u in a.approver_users if u != a.requested_by]
    names += [f"<!subteam^{g}>" for g in a.approver_usergroups]
    return ", ".join(names) if names else "nobody (no approvers are configured)"
