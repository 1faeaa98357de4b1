"""The one Sentry REST call Seawall makes: change an issue's status."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.core.errors import ExternalServiceError

TIMEOUT_S = 5.0


def org_url(sentry_url: str, org: str | None) -> str | None:
    """The organisation's web URL (issue pages live under it), or None without SENTRY_ORG."""
    return f"{sentry_url}/organizations/{quote(org, safe='')}" if org else None


async def update_issue_status(
    http: httpx.AsyncClient,
    sentry_url: str,
    org: str,
    token: str,
    issue_id: str,
    body: dict[str, Any],
) -> None:
    """PUT /api/0/organizations/{org}/issues/{id}/; raises ExternalServiceError on failure."""
    url = f"{sentry_url}/api/0/organizations/{quote(org, safe='')}/issues/{quote(issue_id)}/"
    try:
        response = await http.put(
            url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S
        )
    except httpx.HTTPError as exc:
        # The exception text names the host, never the token (it is only in a header).
        reason = str(exc) or type(exc).__name__
        raise ExternalServiceError(f"Sentry could not be reached ({reason})") from exc
    if not response.is_success:
        raise ExternalServiceError(
            f"Sentry answered HTTP {response.status_code}" + _detail(response)
        )


def _detail(response: httpx.Response) -> str:
    """Sentry's own one-line reason (`{"detail": ...}`), cut short; empty when there is none."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(detail, str) or not detail.strip():
        return ""
    return f": {detail.strip().splitlines()[0][:200]}"
