"""Sample alerts the sandbox sends to itself, so a newcomer sees real cards at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def _alert(labels: dict[str, str], summary: str, started: datetime, **extra: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": summary, **extra},
        "startsAt": started.isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.net/graph?g0.expr=up",
    }


def _group(name: str, alerts: list[dict[str, Any]], common: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "seawall",
        "groupLabels": {"alertname": name},
        "commonLabels": common,
        "commonAnnotations": {
            k: v
            for k, v in alerts[0]["annotations"].items()
            if all(a["annotations"].get(k) == v for a in alerts)
        },
        "externalURL": "http://alertmanager.example.net:9093",
        "alerts": alerts,
    }


def alertmanager_samples(now: datetime) -> list[dict[str, Any]]:
    """Three groups: a two-host latency page, a disk warning, and one that will resolve."""
    latency = {"alertname": "HighLatency", "severity": "critical", "service": "checkout"}
    disk = {"alertname": "DiskFilling", "severity": "warning", "instance": "db-1:9100"}
    lag = {"alertname": "ReplicationSlotLag", "severity": "warning", "instance": "db-2:9187"}
    return [
        _group(
            "HighLatency",
            [
                _alert(
                    {**latency, "instance": f"web-{i}"},
                    "p99 latency above 2 s on checkout",
                    now - timedelta(minutes=4),
                    description="Users wait more than 2 s for the checkout page.",
                    runbook_url="https://runbooks.example.net/high-latency",
                )
                for i in (1, 2)
            ],
            latency,
        ),
        _group(
            "DiskFilling",
            [
                _alert(
                    disk, "/var/lib/postgresql 91% full, full in ~6 h", now - timedelta(minutes=12)
                )
            ],
            disk,
        ),
        _group(
            "ReplicationSlotLag",
            [
                _alert(
                    lag,
                    "Slot 'analytics' retains 3.1 GB of WAL",
                    now - timedelta(minutes=2),
                    description="Stalled consumer or long transaction? `/playbook slot-lag` "
                    "shows the time until the cap and what holds the WAL.",
                )
            ],
            lag,
        ),
    ]


def resolved_sample(now: datetime) -> dict[str, Any]:
    """The replication lag group, resolved: its card turns green and gets a thread reply."""
    group = alertmanager_samples(now)[2]
    for alert in group["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = now.isoformat()
    group["status"] = "resolved"
    return group
