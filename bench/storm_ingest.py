"""Storm ingest: does one `seawall serve` keep up with a storm's deliveries, and how many does
a 100,000-alert storm need? Measured, not guessed.

The storm of bench/storm.py scaled to 100,000 alerts: 5,000 groups of 20 alerts whose alerts
arrive in 4 waves, one delivery per group and wave carrying the group's alerts so far (5, 10,
15, 20): 20,000 deliveries. bench/storm.py sends its storm on a schedule (all of it within
10 s); here the deliveries go as fast as one web process takes them, over 16 keep-alive
connections, with a worker beside it as in production (posting, and keeping the storm card
current). What one process sustains, its CPU time per delivery and Redis's, give the number
of processes for the storm's schedule, with each one at most half busy.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
from dataclasses import dataclass

from bench import http_load
from bench.procstat import cpu_seconds
from bench.stack import WEBHOOK_TOKEN, start_stack
from bench.storm_traffic import HOST, WEBHOOK_PATH, StormSize, payload, plan

PREFIX = "Ingest"
CLIENTS = 16
FULL = StormSize(groups=5_000)  # 100,000 alerts
HEADROOM = 0.5  # a web process sized to be at most half busy during the storm
TIME_LIMIT_S = 240.0


@dataclass
class IngestResult:
    size: StormSize
    load: http_load.LoadResult
    alerts: int
    web_cpu_s: float
    worker_cpu_s: float
    redis_cpu_s: float

    @property
    def web_ms_per_delivery(self) -> float:
        return 1000 * self.web_cpu_s / self.load.count

    @property
    def redis_ms_per_delivery(self) -> float:
        return 1000 * self.redis_cpu_s / self.load.count


def requests(size: StormSize) -> tuple[list[bytes], list[int]]:
    """Every delivery of the storm in its schedule's order, built before the clock starts."""
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    built, alerts = [], []
    for delivery in plan(size):
        body = payload(size, PREFIX, delivery, "2026-01-01T00:00:00Z")
        built.append(http_load.post_json(WEBHOOK_PATH, HOST, body, headers))
        alerts.append(size.per_wave * (delivery.wave + 1))
    return built, alerts


def run(size: StormSize) -> IngestResult:
    bodies, alerts = requests(size)
    stack = start_stack()
    try:
        stack.start_web()
        stack.start_worker("poster")
        assert stack.web is not None
        assert stack.redis.pid is not None
        pids = {
            "web": stack.web.pid,
            "worker": stack.workers[0].pid,
            "redis": stack.redis.pid,
        }
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        load = asyncio.run(
            http_load.run(
                stack.web_port,
                lambda i: bodies[i],
                clients=CLIENTS,
                total=len(bodies),
                seconds=TIME_LIMIT_S,
            )
        )
        cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    finally:
        stack.close()
    return IngestResult(
        size, load, sum(alerts[: load.count]), cpu["web"], cpu["worker"], cpu["redis"]
    )


def report(r: IngestResult) -> str:
    size, load = r.size, r.load
    errors = sum(n for status, n in load.statuses.items() if status != 200)
    lines = [
        f"Storm ingest: {size.alerts:,} alerts in {size.groups:,} groups, {size.deliveries:,}"
        f" deliveries (each group's alerts so far, in {size.waves} waves), as fast as one"
        f" `seawall serve` takes them over {CLIENTS} connections",
        f"{'deliveries':40}{load.count:,} in {load.elapsed_s:.1f} s, {errors} not 200",
        f"{'sustained':40}{load.per_second:,.0f} deliveries/s, "
        f"{r.alerts / load.elapsed_s:,.0f} alerts/s",
        f"{'latency p50 / p99':40}{statistics.median(load.latencies_ms):.1f} / "
        f"{load.pct(0.99):.1f} ms",
        f"{'web CPU':40}{r.web_cpu_s:.1f} s ({r.web_cpu_s / load.elapsed_s:.0%} of a core),"
        f" {r.web_ms_per_delivery:.2f} ms per delivery",
        f"{'Redis CPU':40}{r.redis_cpu_s:.1f} s ({r.redis_cpu_s / load.elapsed_s:.0%} of a"
        f" core), {r.redis_ms_per_delivery:.2f} ms per delivery",
        f"{'worker CPU (posting, storm card)':40}{r.worker_cpu_s:.1f} s",
    ]
    per_core = 1000 / r.web_ms_per_delivery
    for name, deliveries in (
        ("bench/storm.py --full (10,000 alerts)", 2_000),
        (f"this storm ({size.alerts:,} alerts)", size.deliveries),
    ):
        rate = deliveries / size.seconds
        processes = max(1, math.ceil(rate / (per_core * HEADROOM)))
        redis_share = rate * r.redis_ms_per_delivery / 1000
        lines.append(
            f"{name:40}{deliveries:,} deliveries in {size.seconds:.0f} s = {rate:,.0f}/s: "
            f"{rate / per_core:.0%} of one web process's core; {processes} web process"
            f"{'es' if processes > 1 else ''} at most half busy; Redis {redis_share:.0%} of a core"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> IngestResult:
    parser = argparse.ArgumentParser(prog="python -m bench.storm_ingest", description=__doc__)
    parser.add_argument("--groups", type=int, default=FULL.groups, help="groups of 20 alerts")
    args = parser.parse_args(argv)
    result = run(StormSize(groups=args.groups))
    print(report(result))
    print(
        "Capacity per web process = 1 / its CPU time per delivery (one process, one core);"
        " the storm's schedule is bench/storm.py's (every delivery within 10 s)."
    )
    return result


if __name__ == "__main__":
    main()
