"""The change webhook's body (POST /webhooks/change), parsed at the edge.

CI/CD and deploy tools send it with one curl line: `summary` is required, the rest optional.
Text fields are untrusted (shown escaped); `url` must be http(s) to become a link.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.core.times import UtcDatetime

# No stripping: what the schema (GET /openapi.json) promises is exactly what is accepted.
Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ChangeReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")]
    service: Short | None = None
    environment: Short | None = None
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")
    at: UtcDatetime | None = None  # RFC 3339; absent: when Seawall received it
    author: Short | None = None
