"""The step-back prompt: shown to the operator before a destructive step (DM card)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class StepPrompt(BaseModel):
    """Subject of the prompt card `prompt-{run_id}-{step_index}`, posted in the operator's DM."""

    kind: Literal["step_prompt"] = "step_prompt"
    run_id: str
    step_index: int
    operator: str  # Slack user id of who started the run
    playbook: str
    step_description: str
    target: str | None = None
    blast_radius: str | None = None
    rollback: str | None = None
    high_risk: bool = False
    operator_local_time: str | None = None  # e.g. "03:12 (Europe/Paris)"
    late_night: bool = False
    confirm_available_at: datetime
    state: Literal["waiting", "available", "confirmed", "cancelled", "expired"] = "waiting"
    decided_at: datetime | None = None


def prompt_card_id(run_id: str, step_index: int) -> str:
    return f"prompt-{run_id}-{step_index}"
