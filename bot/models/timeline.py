"""One entry of an incident's timeline (bot/timeline.py stores them; the postmortem reads them)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

EntryKind = Literal[
    "incident", "alert", "action", "step", "prompt", "approval", "message", "note", "change"
]

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class TimelineEntry(BaseModel):
    at: datetime
    kind: EntryKind
    text: str  # plain text as a person would say it; escaped only when shown in Slack
    actor: str | None = None  # Slack user id, or "seawall"
    ref: str | None = None  # card id, run id, approval id… for cross-reference
    entry_id: str | None = None  # the stream id, filled when read

    @property
    def by_person(self) -> bool:
        """True when a Slack user (not Seawall or an integration) did this."""
        return self.actor is not None and USER_ID.match(self.actor) is not None
