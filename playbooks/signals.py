"""What the resume ramp looks at before each step, read from the outside world: the queue
depth (from the backend's snapshot) and the target's error-rate alerts in Alertmanager
(`ALERTMANAGER_URL`, `GET /api/v2/alerts?filter=...`). The verdict is playbooks/ramp.py's."""

from __future__ import annotations

from bot.alerts.api import firing_alert_names
from bot.core.errors import ExternalServiceError
from bot.deps import Deps
from playbooks.providers.workers import CeleryTarget, CommandTarget, KubernetesTarget
from playbooks.ramp import Signals


async def read_signals(
    deps: Deps,
    target: CeleryTarget | KubernetesTarget | CommandTarget,
    *,
    depth_then: int | None,
    depth_now: int | None,
) -> Signals:
    """The signals for this target now. Alerts configured but unreadable count as bad: a
    ramp that cannot see its error rate should not climb on its own."""
    if not target.alerts:
        return Signals(depth_then=depth_then, depth_now=depth_now)
    base_url = deps.settings.alertmanager_url
    if not base_url:
        return Signals(depth_then, depth_now, alerts_error="ALERTMANAGER_URL is not set")
    try:
        firing = await firing_alert_names(deps.http, base_url, list(target.alerts))
    except ExternalServiceError as exc:
        return Signals(depth_then, depth_now, alerts_error=str(exc))
    return Signals(depth_then, depth_now, firing=firing)
