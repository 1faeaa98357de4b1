"""The `storm:` section of SEAWALL_CONFIG: when a channel's backlog becomes one storm card.

Only the shape and its validation live here, in the kernel; bot/storm decides with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core.durations import Duration

# Slack posts one new message per second per channel: a backlog of more than ten new cards
# takes more than ten seconds to show, which is when one summary beats waiting.
DEFAULT_THRESHOLD = 10
DEFAULT_QUIET = timedelta(minutes=10)
# A storm is recognised within one poster pass, which reads 100 outbox cards
# (bot/poster.py: PASS_SIZE): a threshold of 100 or more could never be reached.
THRESHOLD_MAX = 99


class StormConfig(BaseModel):
    """When a channel is in a storm, when the storm is over, and what gets no card of its own."""

    model_config = ConfigDict(extra="forbid")

    threshold: int = Field(
        default=DEFAULT_THRESHOLD,
        ge=1,
        le=THRESHOLD_MAX,
        description="a channel whose outbox holds more than this many new alert cards is in a "
        "storm: one storm card, then the per-group cards worst first",
    )
    quiet: Duration = Field(
        default=DEFAULT_QUIET,
        description="a storm with no change for this long is over (so is one where everything "
        "resolved)",
    )
    summary_only: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        description="severities (e.g. info) whose groups are shown only on the storm card while "
        "the storm lasts, never as cards of their own",
    )
    enabled: bool = Field(default=True, description="false: every group gets its own card")

    @field_validator("quiet")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        # Minutes in practice; seconds are allowed so a test (or a lab) need not wait minutes.
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s (minutes in practice, e.g. 10m)")
        return value

    @field_validator("summary_only")
    @classmethod
    def _lower_case(cls, value: list[str]) -> list[str]:
        # Severities are compared case-insensitively, as paging's page_on does for ranks.
        return sorted({v.lower() for v in value})
