"""Storm: thousands of alerts in hundreds of groups to one Slack channel, Slack's limits on.

Seawall (one `seawall serve`, one `seawall worker`, default SEAWALL_POST_INTERVAL=1) gets the
storm as Alertmanager webhook deliveries; a real Alertmanager with a stock `slack_configs`
receiver gets the same alerts through its API, in the same ticks, and posts to its own
channel through the emulator's incoming webhook. The emulator enforces Slack's limits: one
new message per second per channel (burst 1, for chat.postMessage and webhooks alike) and
chat.update at 50/min. At that pace N new cards need about N seconds: that is Slack's floor,
not Seawall's, so the default storm is 2,000 alerts / 100 groups (`make bench` must stay
under 10 minutes); `python -m bench.storm --full` runs the 10,000 / 500 storm (~9 min).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import redis

from bench.procstat import cpu_seconds
from bench.slack_alertmanager import SlackAlertmanager
from bench.stack import CHANNEL, TOKEN, BenchStack, start_stack
from bench.storm_traffic import (
    ChannelWatch,
    Delivery,
    ReadableWatch,
    SendReport,
    StormSize,
    alertmanager_shown,
    group_name,
    payload,
    seawall_shown,
    send_storm,
)
from bot.alerts.rules import card_id_for_group
from bot.core import keys
from bot.emulator import EmulatedMessage, EmulatorConfig
from bot.models.alert import AlertGroup, Status
from bot.models.card import TriageCard

DEFAULT = StormSize(groups=100)
FULL = StormSize(groups=500)
AM_CHANNEL = "C0BENCHAM"
PREFIX = "Storm"
# Alertmanager's own timings: short, so that it gets many chances within the run (its
# defaults, group_wait 30s / group_interval 5m, would give it far fewer).
AM_TIMINGS = {"group_wait": "1s", "group_interval": "5s", "repeat_interval": "1h"}
AM_GRACE_S = 20.0  # how long Alertmanager may keep going after Seawall has finished


@dataclass
class Side:
    """What one sender achieved in its channel."""

    calls: Counter[tuple[str, int]]
    messages_per_group: Counter[str]
    first_message_s: float | None
    all_latest_s: float | None
    groups_latest: int
    readable_s: float | None = None  # every group's name and state, in any message
    groups_readable: int = 0
    final_readable_s: float | None = None  # ... with its final count
    groups_final_readable: int = 0
    storm_cards: int = 0
    storm_updates: int = 0


@dataclass
class StormResult:
    size: StormSize
    sent: SendReport
    alerts_stored: int
    alerts_firing: int
    alerts_in_alertmanager: int
    seawall: Side
    alertmanager: Side
    waited_s: float
    cpu_s: dict[str, float]  # CPU time each process used from the first alert to the end
    redis_commands: int  # commands Redis processed over the same span (web and worker)


def stored_alerts(stack: BenchStack, size: StormSize) -> tuple[int, int]:
    """(alerts, firing alerts) on Seawall's cards for the storm's groups, read from Redis."""
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    total = firing = 0
    try:
        for g in range(size.groups):
            first = Delivery(0.0, g, 0)
            group_key = str(payload(size, PREFIX, first, "2026-01-01T00:00:00Z")["groupKey"])
            raw = client.get(keys.card(card_id_for_group(group_key)))
            if raw is None:
                continue
            subject = TriageCard.model_validate_json(raw).subject
            assert isinstance(subject, AlertGroup)
            total += len(subject.alerts)
            firing += subject.count(Status.FIRING)
    finally:
        client.close()
    return total, firing


def redis_commands(stack: BenchStack) -> int:
    client = stack.redis.client()
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def side(
    stack: BenchStack, watch: ChannelWatch, readable: ReadableWatch, methods: set[str], t0: float
) -> Side:
    calls = Counter((c.method, c.http_status) for c in stack.emulator.calls if c.method in methods)
    per_group: Counter[str] = Counter()
    for message in stack.emulator.messages(watch.channel):
        shown = watch.parse(message)
        if shown is not None:
            per_group[shown.group] += 1
    done = watch.all_latest_at()
    read = readable.all_at(readable.readable_at)
    final = readable.all_at(readable.final_at)
    updates = sum(
        1
        for c in stack.emulator.calls
        if c.method == "chat.update"
        and c.http_status == 200
        and c.params.get("ts") in readable.storm_cards
    )
    return Side(
        calls,
        per_group,
        watch.first_post_at - t0 if watch.first_post_at else None,
        done - t0 if done else None,
        len(watch.latest_at),
        read - t0 if read else None,
        len(readable.readable_at),
        final - t0 if final else None,
        len(readable.final_at),
        len(readable.storm_cards),
        updates,
    )


def run(size: StormSize) -> StormResult:
    emulator = EmulatorConfig(bot_token=TOKEN, channels={CHANNEL: "bench", AM_CHANNEL: "bench-am"})
    stack = start_stack(emulator)
    alertmanager: SlackAlertmanager | None = None
    try:
        stack.start_web()
        stack.start_worker("poster")
        hook = stack.emulator.incoming_webhook_url(stack.emulator_server.url, AM_CHANNEL)
        alertmanager = SlackAlertmanager(
            stack.workdir / "alertmanager", hook, "#bench-am", **AM_TIMINGS
        )
        alertmanager.start()
        names = [group_name(PREFIX, g) for g in range(size.groups)]
        seawall = ChannelWatch(CHANNEL, seawall_shown)
        seawall.expect(names, size.alerts_per_group, size.waves)
        am = ChannelWatch(AM_CHANNEL, alertmanager_shown)
        am.expect(names, size.alerts_per_group, 0)
        seawall_read = ReadableWatch(CHANNEL, names, size.alerts_per_group, seawall_shown)
        am_read = ReadableWatch(AM_CHANNEL, names, size.alerts_per_group, alertmanager_shown)

        def on_message(channel: str, message: EmulatedMessage, event: str) -> None:
            for watch in (seawall, am, seawall_read, am_read):
                watch.on_message(channel, message, event)

        stack.emulator.on_message = on_message
        assert stack.web is not None
        assert alertmanager.pid is not None
        pids = {
            "web": stack.web.pid,
            "worker": stack.workers[0].pid,
            "alertmanager": alertmanager.pid,
        }
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        commands_before = redis_commands(stack)
        sent = asyncio.run(
            send_storm(size, PREFIX, stack.web_port, alertmanager.port, size.seconds * 6)
        )
        t0 = sent.started_at
        # Slack's floor is ~1 s per new message; allow half as much again, then stop anyway.
        deadline = t0 + size.seconds + size.groups * 1.5 + 30
        seawall_done_at: float | None = None
        while time.monotonic() < deadline:
            if seawall_done_at is None and seawall.all_latest():
                seawall_done_at = time.monotonic()
            if seawall_done_at and (
                am.all_latest() or time.monotonic() > seawall_done_at + AM_GRACE_S
            ):
                break
            time.sleep(0.25)
        waited = time.monotonic() - t0
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        commands = redis_commands(stack) - commands_before
        stack.emulator.on_message = None
        in_am = sum(1 for a in alertmanager.alerts() if a["labels"].get("team") == "storm")
        alertmanager.stop()  # before counting, so that calls and messages agree
        stored, firing = stored_alerts(stack, size)
        result = StormResult(
            size,
            sent,
            stored,
            firing,
            in_am,
            side(stack, seawall, seawall_read, {"chat.postMessage", "chat.update"}, t0),
            side(stack, am, am_read, {"incoming_webhook"}, t0),
            waited,
            cpu,
            commands,
        )
    finally:
        stack.emulator.on_message = None
        if alertmanager is not None:
            alertmanager.stop()
        stack.close()
    return result


def _seconds(value: float | None, done: int, groups: int, waited: float) -> str:
    if value is not None:
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    return f"not within {waited:.0f} s ({done}/{groups} groups)"


def _calls(side: Side) -> list[tuple[str, str]]:
    rows = []
    for method in sorted({m for m, _ in side.calls}):
        ok = sum(n for (m, s), n in side.calls.items() if m == method and s == 200)
        limited = side.calls[(method, 429)]
        other = sum(n for (m, s), n in side.calls.items() if m == method and s not in (200, 429))
        rows.append(
            (f"  {method}", f"{ok} ok, {limited} x 429" + (f", {other} other" if other else ""))
        )
    return rows


def table(r: StormResult) -> str:
    size, s, a = r.size, r.seawall, r.alertmanager
    wh = r.sent.seawall_statuses
    api = r.sent.alertmanager_statuses
    groups = size.groups

    def per_group(side: Side) -> str:
        counts = [side.messages_per_group.get(group_name(PREFIX, g), 0) for g in range(groups)]
        return f"min {min(counts)}, max {max(counts)}, total {sum(counts)}"

    seawall_calls = dict(_calls(s))
    am_calls = dict(_calls(a))
    limited_s = sum(n for (_, status), n in s.calls.items() if status == 429)
    limited_a = sum(n for (_, status), n in a.calls.items() if status == 429)
    rows: list[tuple[str, str, str]] = [
        (
            "alerts sent",
            f"{sum(wh.values())} webhooks in {r.sent.duration_s:.1f} s ({wh[200]} x 200)",
            f"{sum(api.values())} API posts ({api[200]} x 200)",
        ),
        (
            "alerts held",
            f"{r.alerts_stored}/{size.alerts} on cards in Redis ({r.alerts_firing} firing)",
            f"{r.alerts_in_alertmanager}/{size.alerts} active in Alertmanager",
        ),
        (
            "Slack calls",
            f"{sum(s.calls.values())} ({limited_s} x 429)",
            f"{sum(a.calls.values())} ({limited_a} x 429)",
        ),
        *[
            (m, seawall_calls.get(m, "-"), am_calls.get(m, "-"))
            for m in sorted(seawall_calls | am_calls)
        ],
        ("messages per group", per_group(s), per_group(a)),
        (
            "CPU time used",
            f"web {r.cpu_s['web']:.1f} s, worker {r.cpu_s['worker']:.1f} s;"
            f" {r.redis_commands} Redis commands",
            f"{r.cpu_s['alertmanager']:.1f} s",
        ),
        (
            "storm card",
            f"{s.storm_cards} message, {s.storm_updates} updates" if s.storm_cards else "none",
            "-",
        ),
        (
            "first message after",
            _seconds(s.first_message_s, s.groups_latest, groups, r.waited_s),
            _seconds(a.first_message_s, a.groups_latest, groups, r.waited_s),
        ),
        (
            "every group readable (name, state)",
            _seconds(s.readable_s, s.groups_readable, groups, r.waited_s),
            _seconds(a.readable_s, a.groups_readable, groups, r.waited_s),
        ),
        (
            "  ... with its final count",
            _seconds(s.final_readable_s, s.groups_final_readable, groups, r.waited_s),
            _seconds(a.final_readable_s, a.groups_final_readable, groups, r.waited_s),
        ),
        (
            "every group's own message latest",
            _seconds(s.all_latest_s, s.groups_latest, groups, r.waited_s),
            _seconds(a.all_latest_s, a.groups_latest, groups, r.waited_s),
        ),
    ]
    width = max(len(x[1]) for x in rows) + 2
    lines = [f"{'':36}{'Seawall (chat.postMessage/update)':{width}}Alertmanager 0.25 slack_configs"]
    lines += [f"{label:36}{left:{width}}{right}" for label, left, right in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> StormResult:
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__)
    parser.add_argument("--full", action="store_true", help="10,000 alerts in 500 groups")
    parser.add_argument("--groups", type=int, default=DEFAULT.groups, help="groups of 20 alerts")
    args = parser.parse_args(argv)
    size = FULL if args.full else StormSize(groups=args.groups)
    result = run(size)
    print(
        f"Storm: {size.alerts} alerts in {size.groups} groups ({size.alerts_per_group} each, in"
        f" {size.waves} waves over {size.seconds:.0f} s) to one channel each; Slack limits on"
        " (1 new message/s per channel, chat.update 50/min)"
    )
    print(table(result))
    floor = size.groups / emulator_rate()
    print(
        f"Slack's floor for {size.groups} new messages in one channel: ~{floor:.0f} s."
        f" Alertmanager timings: {AM_TIMINGS}; times are from the first alert sent."
        " Readable: the group's name and firing state in any message of the channel (its own"
        " card or message, or the storm card); its own message latest: Seawall's card of the"
        " group, or Alertmanager's latest message about it, shows all its alerts."
    )
    return result


def emulator_rate() -> float:
    return EmulatorConfig().post_message_rate_per_channel


if __name__ == "__main__":
    main()
