"""Which changes an alert may be about: pure rules.

A change matches an alert when its service names one of the alert's `service`, `job`,
`namespace` or `app` labels (or a Sentry project), and its environment, when both say one,
is the alert's `environment`/`env`. Only changes in the window before the alert started
count. An alert that names no service (no such label) cannot be matched: the most recent few
changes of the window stand in, since a deploy a minute before an outage is still the first
thing to look at. An alert that names its service shows only that service's changes, so
another team's deploy never looks like the cause, plus the changes that name no service
(an approved infrastructure change, a playbook run): those can touch anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.models.change import Change

WINDOW = timedelta(hours=2)
SHOWN_MAX = 5  # lines of changes on a card: enough to answer "what changed?", no more
FALLBACK_FEW = 3
SERVICE_LABELS = ("service", "job", "namespace", "app", "app_kubernetes_io_name")
ENVIRONMENT_LABELS = ("environment", "env")


def _values(labels: Mapping[str, str], names: Sequence[str]) -> set[str]:
    return {labels[n].strip().lower() for n in names if labels.get(n, "").strip()}


def matches(change: Change, labels: Mapping[str, str]) -> bool:
    if not change.service or change.service.lower() not in _values(labels, SERVICE_LABELS):
        return False
    environments = _values(labels, ENVIRONMENT_LABELS)
    return not (change.environment and environments) or change.environment.lower() in environments


def relevant(
    changes: Sequence[Change], labels: Mapping[str, str], started: datetime
) -> tuple[list[Change], bool]:
    """(the changes to show, newest first; True when they match the alert, False when they
    are only the most recent ones of the window)."""
    window = [c for c in changes if started - WINDOW <= c.at <= started]
    window.sort(key=lambda c: c.at, reverse=True)
    if _values(labels, SERVICE_LABELS):
        return [c for c in window if not c.service or matches(c, labels)][:SHOWN_MAX], True
    return window[:FALLBACK_FEW], False
