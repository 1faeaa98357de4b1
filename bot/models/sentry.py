"""A Sentry issue or metric alert as Seawall knows it (folded by bot/sentry/rules.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class SentryIssue(BaseModel):
    """A Sentry issue (identity: issue id), from `issue` and `event_alert` webhooks."""

    kind: Literal["sentry_issue"] = "sentry_issue"
    issue_id: str
    short_id: str | None = None
    title: str
    culprit: str | None = None
    level: str | None = None
    status: str = "unresolved"
    substatus: str | None = None
    project_slug: str | None = None
    project_name: str | None = None
    environment: str | None = None
    release: str | None = None
    event_count: int | None = None
    user_count: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    # lastSeen of the issue snapshot that set `status`: an older snapshot must not change it.
    status_seen: datetime | None = None
    web_url: str | None = None
    assigned_to: str | None = None
    triggered_rule: str | None = None
    last_action: str = "created"
    last_actor: str | None = None  # as Sentry names them: untrusted text
    last_actor_slack_id: str | None = None  # set when a Seawall button made the change


class SentryMetricAlert(BaseModel):
    """A Sentry metric alert incident (identity: metric alert id)."""

    kind: Literal["sentry_metric_alert"] = "sentry_metric_alert"
    alert_id: str
    title: str
    rule_name: str | None = None
    status: Literal["critical", "warning", "resolved", "open"]
    description_title: str | None = None
    description_text: str | None = None
    web_url: str | None = None
    date_started: datetime | None = None
    date_closed: datetime | None = None
