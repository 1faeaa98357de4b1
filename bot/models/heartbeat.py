"""A heartbeat that stopped arriving (oncall.heartbeats): the card it pages for.

A heartbeat is an alert meant to fire for ever (Alertmanager's Watchdog). Its deliveries post
no card; only its absence does, and its return resolves that card."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class HeartbeatAlarm(BaseModel):
    kind: Literal["heartbeat"] = "heartbeat"
    name: str
    alertname: str  # untrusted only in principle: it comes from the config
    timeout_s: int
    last_seen: datetime
    missing_since: datetime  # last_seen + timeout: when Seawall noticed
    back_at: datetime | None = None

    @property
    def resolved(self) -> bool:
        return self.back_at is not None


def heartbeat_card_id(name: str) -> str:
    return f"heartbeat-{name}"
