"""The `retention:` section of SEAWALL_CONFIG: how long finished things stay in Redis."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core.durations import Duration

# Alertmanager retries a notification for up to ~10 minutes (keys.ALERTMANAGER_DELIVERY_TTL_S);
# a resolved alert dropped sooner could come back as "firing" from a late retry.
RESOLVED_ALERTS_MIN = timedelta(minutes=15)
TIMELINE_MAX_ENTRIES = 10_000  # far more than an incident writes; far less than a runaway loop
TIMELINES_RETENTION = timedelta(days=90)  # the postmortem window after an incident is resolved


class Retention(BaseModel):
    """How long finished things stay in Redis. Nothing open ever expires: an open card, an open
    incident's timeline, a firing alert (bot/core/keys.py names every key and its TTL)."""

    model_config = ConfigDict(extra="forbid")

    resolved_cards: Duration = Field(
        default=timedelta(days=30),
        gt=timedelta(0),
        description="a closed card, its Slack message keys and index expire after this",
    )
    timelines: Duration = Field(
        default=TIMELINES_RETENTION,
        gt=timedelta(0),
        description="a resolved incident's timeline and summary card: the postmortem window",
    )
    changes: Duration = Field(
        default=timedelta(days=30),
        gt=timedelta(0),
        description="a recorded change (deploy, approved change, playbook run) is kept this long",
    )
    timeline_max_entries: int = Field(
        default=TIMELINE_MAX_ENTRIES,
        ge=100,
        description="a timeline is trimmed (approximately) beyond this",
    )
    resolved_alerts: Duration = Field(
        default=timedelta(hours=1),
        description="a resolved alert leaves its group's card after this (it stays counted)",
    )
    resolved_alerts_kept: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="at most this many resolved alerts stay listed (none leaves within 15m)",
    )

    @field_validator("resolved_alerts")
    @classmethod
    def _after_the_retry_window(cls, value: timedelta) -> timedelta:
        if value < RESOLVED_ALERTS_MIN:
            raise ValueError(
                "must be at least 15m: Alertmanager retries a notification for up to 10 "
                "minutes, and a resolved alert dropped sooner could come back as firing"
            )
        return value
