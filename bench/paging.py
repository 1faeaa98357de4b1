"""Paging: how fast a critical alert reaches a phone, and what waiting ladders cost.

Real processes (bench/stack.py): redis-server, `seawall serve`, one `seawall worker`, the
Slack emulator in this process, and a fake ntfy server (tests/support/fake_ntfy.py) that
Apprise really pushes to. Alice is in Do Not Disturb, so her first push goes out at once,
beside her Slack DM; level 1 gives her 2 s, then Carol is paged (level 2).

1. Latency, per alert (ROUNDS alerts, each a new page, acknowledged through its push link):
   webhook sent -> Slack DM posted, -> first push received, -> level-2 DM posted (its
   2 s ack timeout subtracted, so the row is Seawall's overhead). Baselines from the same
   run: the triage card of the same alert reaching its channel (the pipeline that existed
   before paging), and Apprise pushing to the same fake ntfy from this process.
2. CPU: the worker's CPU time per second while idle, with no ladder pending, then with
   PENDING pages each waiting for its next step (a saq job an hour away), as raising a page
   leaves them. The difference per pending ladder is what a waiting ladder costs.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import yaml

from bench.procstat import cpu_seconds_fine
from bench.stack import CHANNEL, TOKEN, WEBHOOK_TOKEN, BenchStack, start_stack
from bot.core import keys
from bot.core.clock import SystemClock
from bot.core.jobs import SaqJobQueue
from bot.emulator import EmulatedMessage, EmulatedUser, EmulatorConfig
from bot.models.page import Page, PagedCard, Target
from bot.paging.ladder import PAGE_TICK_JOB
from bot.paging.notifier import AppriseNotifier, PageMessage
from bot.paging.state import PageStore
from bot.store import connect
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.fake_ntfy import FakeNtfy

ALICE, CAROL = "U0ALICE", "U0CAROL"
ROUNDS = 12
LEVEL_1_S = 2.0
PENDING = 1000
IDLE_S = 8.0  # per window; the median of IDLE_WINDOWS windows is reported
IDLE_WINDOWS = 3
SECRET = "bench-ack-secret-0123456789abcdef012345"


@dataclass
class Arrivals:
    """When messages reached the emulator (this process's monotonic clock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    first: dict[str, float] = field(default_factory=dict)  # "<channel>:<card text>" -> time

    def on_message(self, channel: str, message: EmulatedMessage, event: str) -> None:
        if event != "posted":
            return
        with self.lock:
            self.first.setdefault(f"{channel}:{message.text}", time.monotonic())

    def find(self, channel: str, contains: str) -> float | None:
        with self.lock:
            for key, at in self.first.items():
                if key.startswith(f"{channel}:") and contains in key:
                    return at
        return None


def oncall(ntfy: FakeNtfy) -> dict[str, object]:
    return {
        "schedules": {
            "primary": {
                "timezone": "UTC",
                "rotation": "daily",
                "handoff": "00:00",
                "members": [ALICE],
            }
        },
        "people": {
            ALICE: {"notify": [{"via": ntfy.apprise_url("alice", priority="5"), "after": "1m"}]},
            CAROL: {"notify": [{"via": ntfy.apprise_url("carol", priority="5"), "after": "1m"}]},
        },
        "escalation": [
            {"notify": "schedule:primary", "ack_timeout": f"{int(LEVEL_1_S)}s"},
            {"notify": [CAROL], "ack_timeout": "1h"},
        ],
        "storm_window": "1s",  # each bench alert is its own page
    }


def wait_for(probe: object, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()  # type: ignore[operator]
        if value:
            return float(value)
        time.sleep(0.005)
    raise AssertionError("timed out")


def measure_latency(
    stack: BenchStack, ntfy: FakeNtfy, arrivals: Arrivals
) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {"card": [], "dm": [], "push": [], "level2": []}
    alice_dm = stack.emulator.dm_channel(ALICE)
    carol_dm = stack.emulator.dm_channel(CAROL)
    http = httpx.Client(timeout=10)
    for i in range(ROUNDS):
        name = f"BenchPage{i:02d}"
        pushes = len(ntfy.to("alice"))
        sent = time.monotonic()
        response = http.post(
            f"{stack.web_url}/webhooks/alertmanager",
            json=group_payload(name),
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        )
        assert response.status_code == 200, response.text
        card = wait_for(lambda n=name: arrivals.find(CHANNEL, n))
        dm = wait_for(lambda n=name: arrivals.find(alice_dm, n))
        push = wait_for(lambda p=pushes: len(ntfy.to("alice")) > p and ntfy.to("alice")[p].at)
        level2 = wait_for(lambda n=name: arrivals.find(carol_dm, n))
        rows["card"].append(card - sent)
        rows["dm"].append(dm - sent)
        rows["push"].append(push - sent)
        rows["level2"].append(level2 - sent - LEVEL_1_S)
        [url] = ntfy.to("alice")[pushes].action_urls()
        assert http.post(f"{stack.web_url}{urlsplit(url).path}").status_code == 200
        time.sleep(1.2)  # past the storm window
    http.close()
    return rows


def apprise_floor(ntfy: FakeNtfy) -> list[float]:
    """Apprise alone, from this process to the same fake ntfy: the floor of any push."""
    notifier = AppriseNotifier()
    message = PageMessage(ALICE, "bench", "bench", None, None)
    times = []
    for _ in range(ROUNDS):
        started = time.monotonic()
        assert asyncio.run(notifier.send(ntfy.apprise_url("floor"), message)).ok
        times.append(time.monotonic() - started)
    return times


async def create_pending(redis_url: str, count: int) -> None:
    """`count` open pages, each waiting for a step an hour away, as raising one leaves it."""
    redis = connect(redis_url)
    jobs = SaqJobQueue.from_url(redis_url)
    store, now = PageStore(redis), SystemClock().now()
    for i in range(count):
        page = Page(
            page_id=f"bench-{i:05d}",
            person=f"U0P{i:05d}",
            state="open",
            raised_at=now,
            cards=[PagedCard(card_id=f"bench-card-{i}", title=f"Pending{i}", rank=5,
                             channel=CHANNEL, source="alertmanager")],
            level_started_at=now,
            targets=[Target(user_id=ALICE)],
        )  # fmt: skip
        assert await store.create(page, timedelta(seconds=1), None)
        await jobs.enqueue(
            PAGE_TICK_JOB, key=f"{page.page_id}:x", delay_s=3600, page_id=page.page_id
        )
    await jobs.aclose()
    await redis.aclose()


@dataclass(frozen=True)
class Idle:
    worker_cpu: float  # CPU seconds per second
    redis_cpu: float
    redis_mib: float


def settle(stack: BenchStack, timeout_s: float = 180.0) -> float:
    """Seconds until every card change of the latency run is in Slack. Idle means idle: the
    pages' updates go out at the workspace's chat.update budget (45 a minute), so they may
    still be draining for a minute after the last page."""
    began = time.monotonic()
    client = stack.redis.client()
    try:
        while client.scard(keys.OUTBOX_CHANNELS):
            if time.monotonic() - began > timeout_s:
                raise AssertionError(f"the outbox did not drain within {timeout_s:.0f} s")
            time.sleep(0.25)
    finally:
        client.close()
    return time.monotonic() - began


def idle(stack: BenchStack, worker_pid: int, seconds: float) -> Idle:
    """The median, over IDLE_WINDOWS windows, of what the worker and redis-server use."""
    windows = [idle_once(stack, worker_pid, seconds) for _ in range(IDLE_WINDOWS)]
    return Idle(
        statistics.median(w.worker_cpu for w in windows),
        statistics.median(w.redis_cpu for w in windows),
        windows[-1].redis_mib,
    )


def idle_once(stack: BenchStack, worker_pid: int, seconds: float) -> Idle:
    """What the worker and redis-server use over `seconds` of idling."""
    redis_pid = stack.redis.pid
    assert redis_pid is not None
    w0, r0 = cpu_seconds_fine(worker_pid), cpu_seconds_fine(redis_pid)
    time.sleep(seconds)
    client = stack.redis.client()
    try:
        used = int(client.info("memory")["used_memory"]) / 2**20
    finally:
        client.close()
    return Idle(
        (cpu_seconds_fine(worker_pid) - w0) / seconds,
        (cpu_seconds_fine(redis_pid) - r0) / seconds,
        used,
    )


def run() -> dict[str, object]:
    ntfy = FakeNtfy()
    ntfy.start()
    now = time.time()
    users = {
        ALICE: EmulatedUser(name="alice", tz="Europe/Paris", dnd=(now - 3600, now + 86400)),
        CAROL: EmulatedUser(name="carol", tz="Europe/London"),
    }
    stack = start_stack(EmulatorConfig(bot_token=TOKEN, channels={CHANNEL: "bench"}, users=users))
    arrivals = Arrivals()
    stack.emulator.on_message = arrivals.on_message
    config = stack.workdir / "seawall.yml"
    config.write_text(yaml.safe_dump({"oncall": oncall(ntfy)}))
    stack.env |= {
        "SEAWALL_PUBLIC_URL": "https://seawall.bench",
        "SEAWALL_ACK_SECRET": SECRET,
        "SEAWALL_POST_INTERVAL": "0.2",
    }
    try:
        stack.start_web()
        worker = stack.start_worker("paging")
        time.sleep(2.0)
        latency = measure_latency(stack, ntfy, arrivals)
        floor = apprise_floor(ntfy)
        settled = settle(stack)
        time.sleep(3.0)
        idle_before = idle(stack, worker.pid, IDLE_S)
        asyncio.run(create_pending(stack.redis.url, PENDING))
        time.sleep(3.0)
        idle_after = idle(stack, worker.pid, IDLE_S)
    finally:
        stack.close()
        ntfy.stop()
    return {
        "latency": latency,
        "floor": floor,
        "idle": (idle_before, idle_after),
        "settled": settled,
    }


def _row(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered) * 1000
    worst = ordered[-1] * 1000
    return f"{name:58}{len(values):>4}{p50:>10.0f}{worst:>10.0f}"


def main() -> dict[str, object]:
    result = run()
    latency: dict[str, list[float]] = result["latency"]  # type: ignore[assignment]
    floor: list[float] = result["floor"]  # type: ignore[assignment]
    before, after = result["idle"]  # type: ignore[misc]
    print(f"Paging: a critical alert to the phone (worker: one `seawall worker`; {ROUNDS} pages)")
    print(f"{'from the webhook sent to':58}{'n':>4}{'p50 ms':>10}{'max ms':>10}")
    print(_row("baseline: its triage card posted in the channel", latency["card"]))
    print(_row("the Slack DM to the on-call person posted", latency["dm"]))
    print(_row("the first push received (DND: at once)", latency["push"]))
    print(
        _row(f"the level-2 DM posted, minus the {LEVEL_1_S:.0f} s ack timeout", latency["level2"])
    )
    print(_row("baseline: Apprise alone, bench process -> fake ntfy", floor))
    print(
        f"\nIdle: once the pages' card updates are all in Slack ({result['settled']:.1f} s after "
        "the last page: chat.update's budget), median of "
        f"{IDLE_WINDOWS} windows of {IDLE_S:.0f} s (CPU time from the scheduler's ns counters)"
    )
    print(f"{'':34}{'worker CPU ms/s':>16}{'redis CPU ms/s':>16}{'Redis used MiB':>16}")
    for label, row in (("no ladder pending", before), (f"{PENDING} ladders pending", after)):
        print(
            f"{label:34}{row.worker_cpu * 1000:>16.2f}{row.redis_cpu * 1000:>16.2f}"
            f"{row.redis_mib:>16.2f}"
        )
    per_cpu = after.worker_cpu + after.redis_cpu - before.worker_cpu - before.redis_cpu
    per_kib = (after.redis_mib - before.redis_mib) * 1024 / PENDING
    print(
        f"per pending ladder: {per_cpu / PENDING * 1e6:.2f} µs of CPU per second "
        f"(worker + Redis), {per_kib:.2f} KiB of Redis"
    )
    return result


if __name__ == "__main__":
    main()
