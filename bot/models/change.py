"""A change to production: a deploy reported by CI/CD, an approved change carried out, or a
playbook run that changed something. "What changed?" is the first question of an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

ChangeSource = Literal["webhook", "approval", "playbook"]


class Change(BaseModel):
    change_id: str
    summary: str  # untrusted text: escaped wherever it is shown
    at: datetime
    source: ChangeSource
    service: str | None = None
    environment: str | None = None
    url: str | None = None
    author: str | None = None  # as the sender named them (untrusted text)
    author_slack_id: str | None = None  # when a Slack user did it (approval, playbook)
