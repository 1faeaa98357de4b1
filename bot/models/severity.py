"""How bad a severity (or Sentry level) is, as a number: the worst names a page or a storm,
and a storm's groups are listed and posted worst first."""

from __future__ import annotations

SEVERITY_RANK = {
    "critical": 5,
    "page": 5,
    "fatal": 5,
    "error": 4,
    "high": 4,
    "warning": 3,
    "info": 2,
    "debug": 1,
}


def severity_rank(severity: str | None) -> int:
    """0 for a missing or unknown severity (it sorts after every known one)."""
    return SEVERITY_RANK.get((severity or "").lower(), 0)
