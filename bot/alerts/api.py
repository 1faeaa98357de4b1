"""Alertmanager API v2, for the Silence button: which firing alerts matchers select, and
creating the silence."""

from __future__ import annotations

from datetime import datetime

import httpx

from bot.alerts.rules import filter_matcher
from bot.core.errors import ExternalServiceError


async def matching_fingerprints(
    http: httpx.AsyncClient, base_url: str, matchers: dict[str, str]
) -> list[str]:
    """GET /api/v2/alerts: fingerprints of the alerts `matchers` select that a silence would
    change now (active; not already silenced or inhibited)."""
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("filter", filter_matcher(k, v)) for k, v in sorted(matchers.items())
    ]
    params += [("active", "true"), ("silenced", "false"), ("inhibited", "false")]
    try:
        response = await http.get(f"{base_url}/api/v2/alerts", params=params, timeout=5.0)
    except httpx.HTTPError as exc:
        raise ExternalServiceError(f"Alertmanager could not be reached ({exc})") from exc
    if response.status_code != 200:
        raise ExternalServiceError(_http_error(response))
    try:
        return [str(alert["fingerprint"]) for alert in response.json()]
    except (ValueError, KeyError, TypeError) as exc:
        raise ExternalServiceError("Alertmanager's list of alerts could not be read") from exc


def _http_error(response: httpx.Response) -> str:
    detail = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    return f"Alertmanager answered HTTP {response.status_code}" + (f": {detail}" if detail else "")


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
        raise ExternalServiceError(_http_error(response))
    try:
        return str(response.json()["silenceID"])
    except (ValueError, KeyError) as exc:
        raise ExternalServiceError("Alertmanager's answer had no silenceID") from exc


async def firing_alert_names(
    http: httpx.AsyncClient, base_url: str, filters: list[str]
) -> list[str]:
    """GET /api/v2/alerts?filter=...: the names of the active alerts matching every one of
    `filters` (matchers as Alertmanager writes them: `service="billing"`), silenced and
    inhibited ones left out (someone already decided about those)."""
    params: list[tuple[str, str | int | float | bool | None]] = [("filter", f) for f in filters]
    params += [("active", "true"), ("silenced", "false"), ("inhibited", "false")]
    try:
        response = await http.get(f"{base_url}/api/v2/alerts", params=params, timeout=5.0)
    except httpx.HTTPError as exc:
        raise ExternalServiceError(f"Alertmanager could not be reached ({exc})") from exc
    if response.status_code != 200:
        raise ExternalServiceError(_http_error(response))
    try:
        return [str(a.get("labels", {}).get("alertname", "?")) for a in response.json()]
    except (ValueError, AttributeError, TypeError) as exc:
        raise ExternalServiceError("Alertmanager's list of alerts could not be read") from exc
