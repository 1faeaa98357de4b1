"""Four-eyes approval requests: a different authorised person must approve."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ChecklistItem(BaseModel):
    text: str
    ticked_by: str | None = None
    ticked_at: datetime | None = None


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
    incident_id: str | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)
    approved_by: str | None = None
    approved_at: datetime | None = None
    approved_via: Literal["reaction", "button"] | None = None
    state: Literal["pending", "approved", "executed", "expired", "withdrawn", "cancelled"] = (
        "pending"
    )
    executed_at: datetime | None = None


def approval_card_id(approval_id: str) -> str:
    return f"approval-{approval_id}"
