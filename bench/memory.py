"""Memory: resident set of `seawall serve` and `seawall worker` idle, after a storm, after another.

Cards live in Redis, not in the processes, so a second storm of new groups should leave both
processes where the first one did. Each storm is the full 10,000 alerts in 500 groups, sent
in 10 s; to keep the run short the emulator lets the worker post fast here (100 messages/s
per channel, SEAWALL_POST_INTERVAL=0.01, SEAWALL_UPDATES_PER_MINUTE=6000): memory, not pacing,
is the question. RSS is VmRSS from /proc/<pid>/status, read once every card in Slack shows its
latest state; the peak is VmHWM.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.procstat import peak_rss_mib, rss_mib
from bench.stack import CHANNEL, TOKEN, BenchStack, start_stack
from bench.storm_traffic import ChannelWatch, StormSize, group_name, seawall_shown, send_storm
from bot.emulator import EmulatorConfig

SIZE = StormSize(groups=500)
STORMS = ("MemA", "MemB")  # group name prefixes: the second storm's groups are all new
SETTLE_S = 2.0
POSTED_TIMEOUT_S = 120.0


@dataclass
class Snapshot:
    label: str
    rss: dict[str, float]  # process -> MiB
    peak: dict[str, float]
    redis_used_mib: float
    seconds_to_post: float | None = None


def snapshot(stack: BenchStack, label: str, seconds_to_post: float | None = None) -> Snapshot:
    assert stack.web is not None
    pids = {"seawall serve": stack.web.pid, "seawall worker": stack.workers[0].pid}
    client = stack.redis.client()
    try:
        used = int(client.info("memory")["used_memory"]) / 2**20
    finally:
        client.close()
    return Snapshot(
        label,
        {name: rss_mib(pid) for name, pid in pids.items()},
        {name: peak_rss_mib(pid) for name, pid in pids.items()},
        used,
        seconds_to_post,
    )


def storm(stack: BenchStack, prefix: str) -> float:
    """Send one storm and wait until Slack shows every card's latest state; seconds taken."""
    watch = ChannelWatch(CHANNEL, seawall_shown)
    watch.expect(
        [group_name(prefix, g) for g in range(SIZE.groups)], SIZE.alerts_per_group, SIZE.waves
    )
    stack.emulator.on_message = watch.on_message
    try:
        sent = asyncio.run(send_storm(SIZE, prefix, stack.web_port, None, SIZE.seconds * 6))
        deadline = time.monotonic() + POSTED_TIMEOUT_S
        while not watch.all_latest() and time.monotonic() < deadline:
            time.sleep(0.25)
    finally:
        stack.emulator.on_message = None
    done = watch.all_latest_at()
    if done is None:
        raise AssertionError(
            f"storm {prefix}: only {len(watch.latest_at)}/{SIZE.groups} cards reached their"
            f" latest state within {POSTED_TIMEOUT_S:.0f} s"
        )
    return done - sent.started_at


def run() -> list[Snapshot]:
    emulator = EmulatorConfig(
        bot_token=TOKEN,
        channels={CHANNEL: "bench"},
        post_message_rate_per_channel=100.0,
        post_message_burst=100,
        method_limits_per_minute={"chat.update": 6000},
    )
    stack = start_stack(emulator)
    stack.env["SEAWALL_POST_INTERVAL"] = "0.01"
    # The same for updates: Seawall's own chat.update budget (45 a minute, under Slack's Tier 3)
    # would otherwise pace the storms' later waves, and this run is about memory.
    stack.env["SEAWALL_UPDATES_PER_MINUTE"] = "6000"
    try:
        stack.start_web()
        stack.start_worker("poster")
        time.sleep(SETTLE_S)
        snapshots = [snapshot(stack, "idle (started, one /healthz)")]
        for n, prefix in enumerate(STORMS, start=1):
            took = storm(stack, prefix)
            time.sleep(SETTLE_S)
            snapshots.append(snapshot(stack, f"after storm {n} ({SIZE.groups} new cards)", took))
    finally:
        stack.close()
    return snapshots


def table(snapshots: list[Snapshot]) -> str:
    names = list(snapshots[0].rss)
    head = f"{'':36}" + "".join(f"{name + ' RSS':>22}" for name in names)
    lines = [head + f"{'Redis used':>12}{'posted in':>11}"]
    for s in snapshots:
        cells = "".join(f"{s.rss[n]:>18.1f} MiB" for n in names)
        took = f"{s.seconds_to_post:>9.1f} s" if s.seconds_to_post is not None else f"{'-':>11}"
        lines.append(f"{s.label:36}{cells}{s.redis_used_mib:>8.1f} MiB{took}")
    first, last = snapshots[1], snapshots[-1]
    growth = "".join(f"{last.rss[n] - first.rss[n]:>+18.1f} MiB" for n in names)
    lines.append(f"{'growth, storm 2 vs storm 1':36}{growth}")
    peaks = "".join(f"{last.peak[n]:>18.1f} MiB" for n in names)
    lines.append(f"{'peak (VmHWM)':36}{peaks}")
    return "\n".join(lines)


def main() -> list[Snapshot]:
    snapshots = run()
    print(
        f"Memory: storms of {SIZE.alerts} alerts in {SIZE.groups} groups (fast Slack limits"
        " here: memory, not pacing)"
    )
    print(table(snapshots))
    return snapshots


if __name__ == "__main__":
    main()
