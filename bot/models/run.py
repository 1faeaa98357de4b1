"""A playbook run as stored: the plan (snapshotted at start) and where it stands.

The run is the subject of its own card (`run-{run_id}`), so every transition is one atomic
card mutation and the Slack run card follows by itself. Step definitions live in playbooks/;
the run keeps a copy of what each step said it was (description, gates, rollback) so the card
and the postmortem show what was *planned*, even if the playbook's code changes later.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"  # written *before* the step's code runs: "may have run"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"  # ran, not finished: continues after its timer or a person's choice


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING_CONFIRM = "waiting_confirm"  # step-back prompt shown to the operator
    WAITING_APPROVAL = "waiting_approval"  # four-eyes: someone else must approve
    WAITING_OPERATOR = "waiting_operator"  # interrupted non-idempotent step: re-run/skip/abort?
    BLOCKED = "blocked"  # a gate fell through (approval or prompt expired): ask again or abort
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    WAITING = "waiting"  # a step continues later: after its timer, or a choice on the card

    @property
    def finished(self) -> bool:
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ABORTED)


class ChoiceRecord(BaseModel):
    """A button a waiting step offers (playbooks.definition.Choice, as stored)."""

    value: str
    label: str
    style: str | None = None


class StepRecord(BaseModel):
    """One step: its plan (copied from the definition) and its progress."""

    name: str
    description: str
    destructive: bool = False
    four_eyes: bool = False
    idempotent: bool = False
    high_risk: bool = False
    rollback: str | None = None
    blast_radius: str | None = None
    target: str | None = None
    # Added with gates that bind; defaults keep earlier stored runs readable.
    read_only: bool = False  # declared by the playbook: changes nothing
    ungated: str | None = None  # declared by the playbook: why it may change things ungated
    can_undo: bool = False  # the playbook gives code that undoes it (the Roll back button)

    state: StepState = StepState.PENDING
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: str = ""
    error: str | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    approval_id: str | None = None
    decided_by: str | None = None  # who chose re-run/skip after an interruption
    prompt_attempt: int = 0  # which step-back prompt counts (a new one after "Ask again")
    approval_attempt: int = 0  # which approval request counts (likewise)
    blocked_reason: str | None = None  # why the run is BLOCKED at this step
    facts: dict[str, str] = Field(default_factory=dict)  # what the step's code noted for undo
    rolled_back: bool = False
    # A step that continues later (playbooks.definition.Later): when it runs again, what it
    # asks, the buttons it offers and the one pressed. `waits` counts its waits, so a click on
    # an earlier question is recognised as stale.
    wake_at: datetime | None = None
    question: str | None = None
    choices: list[ChoiceRecord] = Field(default_factory=list)
    choice: str | None = None
    chosen_by: str | None = None
    waits: int = 0


class PlaybookRun(BaseModel):
    kind: Literal["playbook_run"] = "playbook_run"
    run_id: str
    playbook: str
    summary: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    requested_by: str
    channel: str
    incident_id: str | None = None
    status: RunStatus = RunStatus.QUEUED
    step_index: int = 0
    steps: list[StepRecord] = Field(default_factory=list)
    created_at: datetime
    finished_at: datetime | None = None
    rollback: Literal["running", "done", "failed"] | None = None  # the Roll back button's run
    rollback_by: str | None = None

    @property
    def undoable(self) -> list[int]:
        """Indexes of the steps that ran and can be undone by code, latest first."""
        return [
            i
            for i in reversed(range(len(self.steps)))
            if self.steps[i].state is StepState.SUCCEEDED
            and self.steps[i].can_undo
            and not self.steps[i].rolled_back
        ]

    @property
    def current(self) -> StepRecord | None:
        return self.steps[self.step_index] if self.step_index < len(self.steps) else None


def answer_token(value: str, waits: int) -> str:
    """What a waiting step's button carries: the choice, and which of its waits it answers
    (a click on an earlier question is then recognised as stale)."""
    return f"{value}@{waits}"


def run_card_id(run_id: str) -> str:
    return f"run-{run_id}"
