"""An alert storm: the plan, the traffic it sends, and what each Slack channel came to show.

A storm of `groups` x `alerts_per_group` alerts arrives in `waves` over `seconds`: each
group's alerts appear a few at a time, the way Prometheus rules start firing across a fleet.
Seawall receives what Alertmanager would deliver for it: one webhook per group and wave
carrying the group's alerts so far. A real Alertmanager receives the same alerts through its
own API (POST /api/v2/alerts), in the same ticks.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import http_load
from bench.stack import WEBHOOK_TOKEN
from bot.emulator import EmulatedMessage
from tests.fixtures.alertmanager_payloads import group_payload

TICK_S = 0.05
SENDERS = 16  # keep-alive connections delivering webhooks to Seawall
STORM_LABEL = {"team": "storm"}
HOST = "127.0.0.1"
WEBHOOK_PATH = "/webhooks/alertmanager"


@dataclass(frozen=True)
class StormSize:
    groups: int
    alerts_per_group: int = 20
    waves: int = 4
    seconds: float = 10.0

    @property
    def alerts(self) -> int:
        return self.groups * self.alerts_per_group

    @property
    def per_wave(self) -> int:
        return self.alerts_per_group // self.waves

    @property
    def deliveries(self) -> int:
        return self.groups * self.waves


@dataclass(frozen=True, order=True)
class Delivery:
    at: float  # seconds after the storm starts
    group: int
    wave: int


def group_name(prefix: str, group: int) -> str:
    return f"{prefix}{group:03d}"


def plan(size: StormSize) -> list[Delivery]:
    """Every group's waves, the groups' starts spread evenly over the first wave's slot."""
    slot = size.seconds / size.waves
    return sorted(
        Delivery(slot * g / size.groups + slot * k, g, k)
        for g in range(size.groups)
        for k in range(size.waves)
    )


def payload(size: StormSize, prefix: str, d: Delivery, starts_at: str) -> dict[str, Any]:
    """What Alertmanager delivers for the group after wave `d.wave`: all its alerts so far."""
    return group_payload(
        group_name(prefix, d.group),
        alerts=size.per_wave * (d.wave + 1),
        starts_at=starts_at,
        extra_labels=STORM_LABEL,
    )


def new_alerts(size: StormSize, body: dict[str, Any], ends_at: str) -> list[dict[str, Any]]:
    """The alerts of this wave (the last `per_wave` of the payload) in API v2 form.

    Prometheus re-sends firing alerts with a fresh endsAt every minute or so; the storm sends
    each alert once, so it sets an endsAt beyond the end of the run instead (without one,
    Alertmanager would resolve them after resolve_timeout, 5 minutes, mid-run).
    """
    alerts: list[dict[str, Any]] = body["alerts"]
    return [
        {
            "labels": a["labels"],
            "annotations": a["annotations"],
            "startsAt": a["startsAt"],
            "generatorURL": a["generatorURL"],
            "endsAt": ends_at,
        }
        for a in alerts[-size.per_wave :]
    ]


@dataclass
class SendReport:
    started_at: float = 0.0  # time.monotonic() when the first request went out
    finished_at: float = 0.0
    seawall_statuses: Counter[int] = field(default_factory=Counter)
    alertmanager_statuses: Counter[int] = field(default_factory=Counter)

    @property
    def duration_s(self) -> float:
        return self.finished_at - self.started_at


async def send_storm(
    size: StormSize,
    prefix: str,
    seawall_port: int,
    alertmanager_port: int | None = None,
    deadline_s: float = 120.0,
) -> SendReport:
    """Deliver the storm on schedule to Seawall (and the same alerts to Alertmanager)."""
    wall = datetime.now(UTC)
    starts_at, ends_at = (
        t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for t in (wall, wall + timedelta(hours=1))
    )
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    report = SendReport()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def deliver() -> None:
        connection = http_load.Connection(seawall_port)
        try:
            while (request := await queue.get()) is not None:
                status, _ = await connection.send(request)
                report.seawall_statuses[status] += 1
        finally:
            connection.close()

    senders = [asyncio.create_task(deliver()) for _ in range(SENDERS)]
    am = http_load.Connection(alertmanager_port) if alertmanager_port else None
    pending = plan(size)
    report.started_at = time.monotonic()
    hard_stop = report.started_at + deadline_s
    index = 0
    try:
        while index < len(pending) and time.monotonic() < hard_stop:
            now = time.monotonic() - report.started_at
            batch = []
            while index < len(pending) and pending[index].at <= now:
                batch.append(pending[index])
                index += 1
            to_alertmanager = []
            for d in batch:
                body = payload(size, prefix, d, starts_at)
                queue.put_nowait(http_load.post_json(WEBHOOK_PATH, HOST, body, headers))
                to_alertmanager.extend(new_alerts(size, body, ends_at))
            if am is not None and to_alertmanager:
                request = http_load.post_json("/api/v2/alerts", HOST, to_alertmanager)
                status, _ = await am.send(request)
                report.alertmanager_statuses[status] += 1
            await asyncio.sleep(TICK_S)
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.wait_for(
            asyncio.gather(*senders), timeout=max(1.0, hard_stop - time.monotonic())
        )
    finally:
        for task in senders:
            task.cancel()
        if am is not None:
            am.close()
    report.finished_at = time.monotonic()
    return report


# --- what the channels show -----------------------------------------------------------------

SEAWALL_FIRING = re.compile(r"\*(\d+) firing\*")
SEAWALL_NOTIFIED = re.compile(r"notified (\d+)×")
AM_TITLE = re.compile(r"^\[(FIRING|RESOLVED)(?::(\d+))?\] (\S+)")
STORM_HEADER = "STORM"
# A storm card's list entry: `name`, maybe `labels`, then the count (bot/cards/storm_layout.py).
STORM_ITEM = re.compile(r"`([^`]+)`(?: `[^`]*`)? (\d[\d,]*)")


@dataclass(frozen=True)
class Shown:
    """One group's state as a message showed it at some moment."""

    group: str
    firing: int
    notified: int  # Seawall cards say how many deliveries they merged; 0 for Alertmanager


def seawall_shown(message: EmulatedMessage) -> Shown | None:
    """A group's own card as it shows the group (None: a storm card, a reply...)."""
    if not message.blocks or message.thread_ts is not None:
        return None
    header = str(message.blocks[0].get("text", {}).get("text", ""))
    if STORM_HEADER in header:
        return None
    body = json.dumps(message.blocks, ensure_ascii=False)
    firing, notified = SEAWALL_FIRING.search(body), SEAWALL_NOTIFIED.search(body)
    return Shown(
        header.rsplit("· ", 1)[-1],
        int(firing.group(1)) if firing else 0,
        int(notified.group(1)) if notified else 0,
    )


def alertmanager_shown(message: EmulatedMessage) -> Shown | None:
    title = str(message.attachments[0].get("title", "")) if message.attachments else ""
    match = AM_TITLE.match(title)
    if match is None:
        return None
    return Shown(match.group(3), int(match.group(2) or 0), 0)


class ChannelWatch:
    """Timestamps each change a channel shows (fed by the emulator's on_message callback)."""

    def __init__(self, channel: str, parse: Callable[[EmulatedMessage], Shown | None]) -> None:
        self.channel = channel
        self.parse = parse
        self.lock = threading.Lock()
        self.first_post_at: float | None = None
        self.latest_at: dict[str, float] = {}  # group -> when it first showed its final state
        self.final: dict[str, tuple[int, int]] = {}  # group -> (firing, notified) expected

    def expect(self, groups: list[str], firing: int, notified: int) -> None:
        self.final = {g: (firing, notified) for g in groups}

    def on_message(self, channel: str, message: EmulatedMessage, event: str) -> None:
        if channel != self.channel or event not in ("posted", "updated"):
            return
        shown = self.parse(message)
        if shown is None:
            return
        now = time.monotonic()
        with self.lock:
            if event == "posted" and self.first_post_at is None:
                self.first_post_at = now
            want = self.final.get(shown.group)
            if (
                want is not None
                and shown.firing >= want[0]
                and shown.notified >= want[1]
                and shown.group not in self.latest_at
            ):
                self.latest_at[shown.group] = now

    def all_latest(self) -> bool:
        with self.lock:
            return len(self.latest_at) == len(self.final)

    def all_latest_at(self) -> float | None:
        with self.lock:
            if len(self.latest_at) < len(self.final):
                return None
            return max(self.latest_at.values(), default=None)


@dataclass(frozen=True)
class Readable:
    """A group's name with its state and count, as some message in the channel shows it."""

    group: str
    firing: bool
    count: int


def storm_card_shown(message: EmulatedMessage) -> list[Readable]:
    """Every group a storm card lists, with its state (from the section's heading: a severity
    "… firing", or "resolved") and count. Empty for any other message."""
    if not message.blocks or message.thread_ts is not None:
        return []
    if STORM_HEADER not in str(message.blocks[0].get("text", {}).get("text", "")):
        return []
    shown, firing = [], True
    for block in message.blocks[2:]:
        if block.get("type") != "section":
            continue
        text = str(block.get("text", {}).get("text", ""))
        first = text.split("\n", 1)[0]
        if first.startswith("🟢 *resolved*"):
            firing = False
        elif "groups firing (" in first or "group firing (" in first:
            firing = True
        shown += [Readable(n, firing, int(c.replace(",", ""))) for n, c in STORM_ITEM.findall(text)]
    return shown


class ReadableWatch:
    """When every group's name and state first became readable in a channel, in any message
    (its own card, a storm card, Alertmanager's message), and when with its final count."""

    def __init__(
        self,
        channel: str,
        groups: list[str],
        final_count: int,
        parse: Callable[[EmulatedMessage], Shown | None],
    ) -> None:
        self.channel = channel
        self.groups = set(groups)
        self.final_count = final_count
        self.parse = parse
        self.lock = threading.Lock()
        self.readable_at: dict[str, float] = {}
        self.final_at: dict[str, float] = {}
        self.storm_cards: set[str] = set()

    def on_message(self, channel: str, message: EmulatedMessage, event: str) -> None:
        if channel != self.channel or event not in ("posted", "updated"):
            return
        items = storm_card_shown(message)
        if items:
            with self.lock:
                self.storm_cards.add(message.ts)
        shown = self.parse(message)
        if shown is not None:
            items.append(Readable(shown.group, True, shown.firing))
        now = time.monotonic()
        with self.lock:
            for item in items:
                if item.group not in self.groups or not item.firing:
                    continue
                self.readable_at.setdefault(item.group, now)
                if item.count >= self.final_count:
                    self.final_at.setdefault(item.group, now)

    def all_at(self, which: dict[str, float]) -> float | None:
        with self.lock:
            if len(which) < len(self.groups):
                return None
            return max(which.values(), default=None)
