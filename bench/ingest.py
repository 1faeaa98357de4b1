"""Ingest throughput: Alertmanager webhook deliveries per second into one `seawall serve`.

Each delivery is what Alertmanager sends for a group (1-20 alerts, ~4.5 KB on average),
authenticated, parsed, de-duplicated and written to Redis in one transaction (card JSON,
revision, outbox). A worker runs beside it, posting cards at Slack's pace, as in production.
Beside it, in the same run, on the same server and port: GET /healthz, the hello-world
ceiling of this process on this machine, and deliveries Seawall has already applied
(answered from the dedup key). Each row is bounded by a request count and a time limit.

Then the cost of "acknowledged means replicated": the same deliveries into Redis with a
replica and Sentinels, WAIT on and off (bench/cluster.py), one web process behind HAProxy.
"""

from __future__ import annotations

import asyncio
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from bench import http_load
from bench.cluster import BenchCluster
from bench.procstat import cpu_seconds
from bench.stack import WEBHOOK_TOKEN, BenchStack, start_stack
from tests.fixtures.alertmanager_payloads import group_payload

LEVELS = (1, 8, 32)
REPLICATED_LEVELS = (1, 32)
REPLICATED_ROUNDS = 2
GROUPS = 250  # cards per level; each later delivery of a group updates its card
ROUNDS = 20  # deliveries per group at most; alert counts differ per round, so none repeat
SECONDS = 6.0  # per row
HELLO_MAX, WEBHOOK_MAX = 20_000, GROUPS * ROUNDS
WEBHOOK_PATH = "/webhooks/alertmanager"
HELLO, NEW, DUPLICATE = "hello-world GET /healthz", "webhook, new state", "webhook, duplicate"


@dataclass
class Row:
    name: str
    clients: int
    load: http_load.LoadResult
    alerts: int  # alerts carried by the requests that were answered
    web_cpu_s: float

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.web_cpu_s / self.load.count if self.load.count else float("nan")


def deliveries(level: int, seed: int, prefix: str = "Ingest") -> tuple[list[bytes], list[int]]:
    """GROUPS x ROUNDS distinct deliveries (round-major: every card exists after round 0)."""
    host = "127.0.0.1"
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    rng = random.Random(seed)
    offsets = [rng.randrange(20) for _ in range(GROUPS)]
    requests, sizes = [], []
    for r in range(ROUNDS):
        for g in range(GROUPS):
            alerts = 1 + (offsets[g] + r) % 20  # uniform over 1..20, distinct per round
            body = group_payload(
                f"{prefix}{level}x{g:03d}", alerts=alerts, extra_labels={"team": "bench"}
            )
            requests.append(http_load.post_json(WEBHOOK_PATH, host, body, headers))
            sizes.append(alerts)
    return requests, sizes


async def measure_row(
    stack: BenchStack, name: str, clients: int, requests: list[bytes], sizes: list[int], cap: int
) -> Row:
    assert stack.web is not None
    return await measure(stack.web_port, [stack.web.pid], name, clients, requests, sizes, cap)


async def measure(
    port: int,
    pids: list[int],
    name: str,
    clients: int,
    requests: list[bytes],
    sizes: list[int],
    cap: int,
) -> Row:
    before = sum(cpu_seconds(pid) for pid in pids)
    load = await http_load.run(
        port,
        lambda i: requests[i % len(requests)],
        clients=clients,
        total=cap,
        seconds=SECONDS,
    )
    cpu = sum(cpu_seconds(pid) for pid in pids) - before
    alerts = sum(sizes[i % len(sizes)] for i in range(load.count))
    return Row(name, clients, load, alerts, cpu)


async def run_levels(stack: BenchStack) -> list[Row]:
    hello = [http_load.get("/healthz", "127.0.0.1")]
    rows = []
    for clients in LEVELS:
        requests, sizes = deliveries(clients, seed=clients)
        # Warm-up (not counted): connections, imports, Redis scripts, pydantic caches.
        await http_load.run(
            stack.web_port, lambda i: hello[0], clients=clients, total=50, seconds=5
        )
        rows.append(await measure_row(stack, HELLO, clients, hello, [0], HELLO_MAX))
        fresh = await measure_row(stack, NEW, clients, requests, sizes, WEBHOOK_MAX)
        rows.append(fresh)
        # The same deliveries again, as an HA pair of Alertmanagers or a retry would send them.
        applied, applied_sizes = requests[: fresh.load.count], sizes[: fresh.load.count]
        rows.append(
            await measure_row(stack, DUPLICATE, clients, applied, applied_sizes, WEBHOOK_MAX)
        )
    return rows


async def replicated_levels(cluster: BenchCluster, wait_ms: str, n: int) -> list[Row]:
    """New deliveries into one web process behind HAProxy, Redis with a replica."""
    hello = [http_load.get("/healthz", "127.0.0.1")]
    label = f"webhook, new, WAIT {'off' if wait_ms == '0' else 'on'}"
    rows = []
    for clients in REPLICATED_LEVELS:
        requests, sizes = deliveries(clients, seed=clients, prefix=f"Replicated{n}w{wait_ms}x")
        await http_load.run(cluster.port, lambda i: hello[0], clients=clients, total=50, seconds=5)
        rows.append(
            await measure(
                cluster.port, cluster.web_pids, label, clients, requests, sizes, WEBHOOK_MAX
            )
        )
    return rows


def replicated_rows() -> dict[str, list[list[Row]]]:
    """WAIT on and off against the same Redis primary + replica, alternated REPLICATED_ROUNDS
    times (a machine shared with other work drifts; alternating spreads that over both)."""
    cluster = BenchCluster()
    rows: dict[str, list[list[Row]]] = {"500": [], "0": []}
    try:
        cluster.start()
        for n in range(REPLICATED_ROUNDS):
            for wait_ms in ("500", "0"):
                cluster.configure(webs=1, workers=1, SEAWALL_REPLICA_WAIT_MS=wait_ms)
                rows[wait_ms].append(asyncio.run(replicated_levels(cluster, wait_ms, n)))
    finally:
        cluster.close()
    return rows


def wait_table(rows: dict[str, list[list[Row]]]) -> str:
    """Per level: each round's req/s, p50, p99 and CPU ms per request, WAIT on beside off."""
    lines = [
        f"{'clients':>7} {'WAIT':>4} {'req/s':>13} {'p50 ms':>13} {'p99 ms':>13}"
        f" {'CPU ms/req':>13} {'non-200':>7}"
    ]
    for i, clients in enumerate(REPLICATED_LEVELS):
        for wait_ms, name in (("500", "on"), ("0", "off")):
            runs = [levels[i] for levels in rows[wait_ms]]
            errors = sum(n for r in runs for status, n in r.load.statuses.items() if status != 200)
            lines.append(
                f"{clients:>7} {name:>4} {each(runs, lambda r: r.load.per_second):>13}"
                f" {each(runs, median_ms):>13} {each(runs, lambda r: r.load.pct(0.99)):>13}"
                f" {each(runs, lambda r: r.cpu_ms_per_request):>13} {errors:>7}"
            )
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    lines = [
        f"{'request':26} {'clients':>7} {'n':>6} {'req/s':>7} {'alerts/s':>8} {'p50 ms':>7}"
        f" {'p99 ms':>7} {'vs hello':>8} {'web CPU':>7} {'CPU ms/req':>10} {'non-200':>7}"
    ]
    hello = {r.clients: r.load.per_second for r in rows if r.name == HELLO}
    for r in rows:
        errors = sum(n for status, n in r.load.statuses.items() if status != 200)
        alerts = f"{r.alerts / r.load.elapsed_s:>8.0f}" if r.alerts else f"{'-':>8}"
        lines.append(
            f"{r.name:26} {r.clients:>7} {r.load.count:>6} {r.load.per_second:>7.0f} {alerts}"
            f" {statistics.median(r.load.latencies_ms):>7.1f} {r.load.pct(0.99):>7.1f}"
            f" {r.load.per_second / hello[r.clients]:>8.3f}"
            f" {r.web_cpu_s / r.load.elapsed_s:>7.0%} {r.cpu_ms_per_request:>10.2f} {errors:>7}"
        )
    return "\n".join(lines)


def main() -> dict[str, object]:
    stack = start_stack()
    try:
        stack.start_web()
        stack.start_worker("poster")
        rows = asyncio.run(run_levels(stack))
    finally:
        stack.close()
    print(
        "Ingest: Alertmanager deliveries (1-20 alerts, mean 10.5) into one `seawall serve`,"
        f" {SECONDS:.0f} s or {WEBHOOK_MAX} requests per row"
    )
    print(table(rows))
    best = max(r.load.per_second for r in rows if r.name == NEW)
    print(
        f"best sustained: {best:.0f} new deliveries/s. web CPU: share of one core the web process"
        " used (it is one process: 100% is its ceiling); CPU ms/req: its CPU time per request."
    )
    replicated = replicated_rows()
    print(
        "\nWAIT's cost: new deliveries into one `seawall serve` behind HAProxy, Redis primary +"
        " replica + 3 Sentinels; WAIT on (SEAWALL_REPLICA_WAIT_MS=500: a 200 only once the"
        f" replica has the delivery) and off (=0), alternated {REPLICATED_ROUNDS} times"
        " (values: one per round)"
    )
    print(wait_table(replicated))
    for i, clients in enumerate(REPLICATED_LEVELS):
        on = [levels[i] for levels in replicated["500"]]
        off = [levels[i] for levels in replicated["0"]]
        extra_p50 = statistics.median(map(median_ms, on)) - statistics.median(map(median_ms, off))
        extra_cpu = statistics.median(r.cpu_ms_per_request for r in on) - statistics.median(
            r.cpu_ms_per_request for r in off
        )
        ratio = statistics.median(r.load.per_second for r in on) / statistics.median(
            r.load.per_second for r in off
        )
        print(
            f"WAIT at {clients:>2} clients: p50 {extra_p50:+.2f} ms, CPU {extra_cpu:+.2f} ms per"
            f" delivery, {ratio:.0%} of the throughput (medians of the rounds)"
        )
    return {"rows": rows, "best_deliveries_per_s": best, "replicated": replicated}


def each(rows: list[Row], value: Callable[[Row], float]) -> str:
    return " / ".join(f"{value(r):.1f}" for r in rows)


def median_ms(row: Row) -> float:
    return statistics.median(row.load.latencies_ms)


if __name__ == "__main__":
    main()
