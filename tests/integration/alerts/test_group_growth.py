"""A churning alert group's stored card stops growing (real Redis, the real intake): a
delivery's cost is its card's size, which must stay flat however many alerts the group saw."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.intake import receive_alertmanager
from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import card_id_for_group
from bot.core import keys
from bot.core.clock import SystemClock
from bot.core.config import FileConfig
from bot.store import Store, connect
from bot.timeline import Timeline

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GROUP_KEY = '{}:{alertname="PodCrash"}'
DELIVERIES = 2_000  # every 30 s a pod alert fires and the previous one resolves: ~17 hours


def pod_alert(pod: int, status: str, starts_at: datetime) -> dict[str, object]:
    ended = status == "resolved"
    return {
        "status": status,
        "labels": {"alertname": "PodCrash", "namespace": "prod", "pod": f"api-{pod:05d}"},
        "annotations": {"summary": f"api-{pod:05d} restarted 5 times in 10 minutes"},
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(seconds=30)).isoformat()
        if ended
        else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.net/graph?g0.expr=restarts",
        "fingerprint": hashlib.sha256(f"api-{pod}".encode()).hexdigest()[:16],
    }


def delivery(tick: int) -> AlertmanagerWebhook:
    at = START + timedelta(seconds=30 * tick)
    alerts = [pod_alert(tick, "firing", at)]
    if tick:
        alerts.append(pod_alert(tick - 1, "resolved", at - timedelta(seconds=30)))
    payload = {
        "version": "4",
        "groupKey": GROUP_KEY,
        "status": "firing",
        "receiver": "seawall",
        "groupLabels": {"alertname": "PodCrash"},
        "commonLabels": {"alertname": "PodCrash", "namespace": "prod"},
        "alerts": alerts,
    }
    return AlertmanagerWebhook.model_validate_json(json.dumps(payload))


async def stored_sizes(redis_url: str) -> list[int]:
    """The stored card's size in bytes after each delivery."""
    redis = connect(redis_url)
    store = Store(redis, SystemClock())
    timeline = Timeline(redis=redis, clock=SystemClock())
    card_key = keys.card(card_id_for_group(GROUP_KEY))
    sizes = []
    try:
        for tick in range(DELIVERIES):
            await receive_alertmanager(
                delivery(tick),
                store=store,
                timeline=timeline,
                config=FileConfig(),
                default_channel="C0ALERTS",
                received_at=START + timedelta(seconds=30 * tick),
            )
            sizes.append(int(await redis.strlen(card_key)))
    finally:
        await redis.aclose()
    return sizes


def test_a_churning_group_s_stored_card_stops_growing(redis_url: str) -> None:
    sizes = asyncio.run(stored_sizes(redis_url))
    # Past the first hour (the default retention) the card holds the firing alert and the 50
    # most recent resolved ones; only counters gain digits after that.
    settled = max(sizes[200:800])
    assert max(sizes[800:]) <= settled + 16
    assert max(sizes) < 40_000  # 2,000 alerts kept whole would be ~700 KB
