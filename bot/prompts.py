"""The step-back prompt: shown to the operator before a destructive step (DM card).

The model and the pure time maths live here; opening, enabling and deciding a prompt is in
bot/step_back.py (which needs Deps, and bot.models imports this module).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

    @property
    def decided(self) -> bool:
        return self.state in DECIDED_STATES

    @property
    def typed_name(self) -> str:
        """What a high-risk confirm must type: the target, else the playbook's name."""
        return self.target or self.playbook


def prompt_card_id(run_id: str, step_index: int) -> str:
    return f"prompt-{run_id}-{step_index}"


def is_late_night(hour: int, from_hour: int, until_hour: int) -> bool:
    """Whether `hour` (0-23) lies in [from_hour, until_hour), a window that may wrap past
    midnight (22 -> 7). Equal bounds mean no late-night window at all."""
    if from_hour == until_hour:
        return False
    if from_hour < until_hour:
        return from_hour <= hour < until_hour
    return hour >= from_hour or hour < until_hour


def zone_of(tz_name: str | None) -> ZoneInfo | None:
    """The IANA zone Slack named for a user, or None when absent or unknown here."""
    if not tz_name:
        return None
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def operator_local_time(
    now: datetime, tz_name: str | None, from_hour: int, until_hour: int
) -> tuple[str | None, bool]:
    """("03:12 (Europe/Paris)", late-night?) for an aware `now`; (None, False) if unknown."""
    zone = zone_of(tz_name)
    if zone is None:
        return None, False
    local = now.astimezone(zone)
    return f"{local:%H:%M} ({tz_name})", is_late_night(local.hour, from_hour, until_hour)
