"""The step-back prompt: shown to the operator before a destructive step (DM card).

The model only: who may decide it is in bot/step_back/rules.py, and opening, enabling and
deciding a prompt in bot/step_back/flow.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

PromptState = Literal["waiting", "available", "confirmed", "cancelled", "expired"]
DECIDED_STATES = ("confirmed", "cancelled", "expired")


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
    state: PromptState = "waiting"
    decided_at: datetime | None = None
    # Added with the step-back feature; defaults keep earlier stored prompts readable.
    step_name: str = ""
    step_count: int | None = None
    params: dict[str, str] = Field(default_factory=dict)  # the run's parameters, as text
    incident_id: str | None = None  # where confirm/cancel are recorded in the timeline
    decided_by: str | None = None
    # Added with gates that bind; None in earlier stored prompts (they do not expire).
    expires_at: datetime | None = None  # Confirm is refused from then on
    attempt: int = 0  # 0 for the first prompt of a step, then one more per "Ask again"
    ended_reason: str | None = None  # why it expired without a decision, for the card

    @property
    def decided(self) -> bool:
        return self.state in DECIDED_STATES

    @property
    def typed_name(self) -> str:
        """What a high-risk confirm must type: the target, else the playbook's name."""
        return self.target or self.playbook


def prompt_card_id(run_id: str, step_index: int, attempt: int = 0) -> str:
    """The first prompt keeps the id earlier releases used; later attempts add a suffix."""
    base = f"prompt-{run_id}-{step_index}"
    return base if attempt == 0 else f"{base}-{attempt}"
