"""A storm: one channel's burst of alert groups, shown as one card kept current (bot/storm).

`Storm` is the subject of the storm card; each `StormRow` is one alert group of the storm as
the card lists it, read from the group's own card. Rows are rebuilt from the groups' cards,
never edited by hand, so the storm card converges to what the groups' cards say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.models.severity import severity_rank

EndReason = Literal["resolved", "quiet"]
_NEVER = datetime.max.replace(tzinfo=UTC)


class StormRow(BaseModel):
    """One alert group of a storm."""

    model_config = ConfigDict(frozen=True)

    card_id: str
    revision: int  # of the group's card this row was read from: unchanged cards are not re-read
    name: str  # the alertname: untrusted, escaped wherever it is shown
    labels: str = ""  # the group's other labels ("env=prod"): untrusted
    severity: str | None = None  # untrusted
    firing: int = 0
    resolved: int = 0  # resolved alerts the group has seen, those that left its card too
    started_at: datetime | None = None
    ts: str | None = None  # the group's own card in Slack, once posted
    acked: bool = False
    summary_only: bool = False  # its severity gets no card of its own during the storm

    @property
    def is_firing(self) -> bool:
        return self.firing > 0

    @property
    def rank(self) -> int:
        return severity_rank(self.severity)

    def state(self) -> tuple[str, str, str | None, int, int]:
        """What the storm card says about the group, apart from its link: a change here is a
        change of the storm (it counts for `quiet`); a new link alone is not."""
        return (self.name, self.labels, self.severity, self.firing, self.resolved)


def worst_first(row: StormRow) -> tuple[bool, int, datetime, str, str]:
    """Sort key: firing before resolved, then severity, then the oldest first (it most likely
    started the storm), then by name for a stable order."""
    return (not row.is_firing, -row.rank, row.started_at or _NEVER, row.name, row.card_id)


class Storm(BaseModel):
    """Subject of a channel's storm card."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["storm"] = "storm"
    channel: str
    started_at: datetime
    rows: list[StormRow] = Field(default_factory=list)  # worst first
    changed_at: datetime  # a group's state last changed: `quiet` counts from here
    refreshed_at: datetime  # the rows were last rebuilt
    quiet: timedelta
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    team_url: str | None = None  # https://<team>.slack.com/, for links to the groups' cards
    summary_only: list[str] = Field(default_factory=list)  # severities shown here alone

    @property
    def is_over(self) -> bool:
        return self.ended_at is not None

    def firing_rows(self) -> list[StormRow]:
        return [r for r in self.rows if r.is_firing]

    @property
    def firing_alerts(self) -> int:
        return sum(r.firing for r in self.rows)

    @property
    def resolved_alerts(self) -> int:
        return sum(r.resolved for r in self.rows)

    def worst(self) -> StormRow | None:
        return min(self.rows, key=worst_first, default=None)

    def posted(self) -> int:
        """Groups whose own card is in Slack."""
        return sum(1 for r in self.rows if r.ts is not None)

    def cards_expected(self) -> int:
        """Groups that get a card of their own (the others are shown here alone)."""
        return sum(1 for r in self.rows if not r.summary_only or r.ts is not None)
