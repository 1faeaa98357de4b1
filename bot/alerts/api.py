"""The one Alertmanager API v2 call Seawall makes: create a silence."""

from __future__ import annotations

from datetime import datetime

import httpx

from bot.core.errors import ExternalServiceError


async def create_silence(
    http: httpx.AsyncClient,
    base_url: str,
    matchers: dict[str, str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
) -> str:
    """POST /api/v2/silences with equality matchers; returns the silence ID."""
    body = {
        "matchers": [
            {"name": name, "value": value, "isRegex": False, "isEqual": True}
            for name, value in sorted(matchers.items())
        ],
        "startsAt": starts_at.isoformat(),
        "endsAt": ends_at.isoformat(),
        "createdBy": created_by,
        "comment": comment,
    }
    try:
        response = await http.post(f"{base_url}/api/v2/silences", json=body, timeout=5.0)
    except httpx.HTTPError as exc:
        raise ExternalServiceError(f"Alertmanager could not be reached ({exc})") from exc
    if response.status_code != 200:
        detail = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        raise ExternalServiceError(
            f"Alertmanager answered HTTP {response.status_code}" + (f": {detail}" if detail else "")
        )
    try:
        return str(response.json()["silenceID"])
    except (ValueError, KeyError) as exc:
        raise ExternalServiceError("Alertmanager's answer had no silenceID") from exc
