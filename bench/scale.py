"""More processes, measured: 1 and 2 `seawall serve` behind HAProxy, 1 and 2 `seawall worker`,
on Redis with a replica and three Sentinels (WAIT on, as production should run).

For each combination, on the same Redis in the same run:
- ingest: new Alertmanager deliveries at INGEST_CLIENTS concurrent senders, through HAProxy;
- ack latency: signed slash commands (`/playbook status`, one Redis read) at ACK_CLIENTS;
- jobs: JOBS queued "Changed recently" look-ups (the job every new card gets), drained by the
  workers: how many jobs a second the worker processes get through.
Every part shares the machine's 2 cores: the load generator, HAProxy, the emulator, Redis
and its replica, and Seawall's processes.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

from bench import http_load
from bench.cluster import BenchCluster
from bench.ingest import deliveries
from bench.procstat import cpu_seconds
from bench.stack import CHANNEL, SECRET
from bot.alerts.rules import card_id_for_group
from bot.changes.flow import ATTACH_JOB
from bot.core.config import sentinel_addresses
from bot.core.jobs import SaqJobQueue
from bot.core.redis_target import RedisTarget
from bot.emulator.payloads import TeamInfo, build_slash_command

CONFIGS = ((1, 1), (2, 1), (1, 2), (2, 2))  # (web processes, worker processes)
INGEST_CLIENTS = 32
INGEST_SECONDS = 5.0
ACK_CLIENTS = 50
ACK_REQUESTS = 300
JOBS = 1500
DRAIN_LIMIT_S = 120.0


@dataclass
class Result:
    webs: int
    workers: int
    ingest: http_load.LoadResult
    web_cpu_s: float  # during ingest, all web processes
    ack: http_load.LoadResult
    ack_cpu_s: float
    jobs_per_s: float
    worker_cpu_s: float  # while the jobs drained, all worker processes


def slash(cluster: BenchCluster) -> bytes:
    request = build_slash_command(
        signing_secret=SECRET,
        team=TeamInfo(),
        command="/playbook",
        text="status nosuchrun",
        user_id="U0BENCH",
        user_name="bench",
        channel_id=CHANNEL,
        channel_name="bench",
        response_url=cluster.emulator.issue_response_url(
            cluster.emulator_server.url, CHANNEL, "U0BENCH"
        ),
        trigger_id=cluster.emulator.issue_trigger_id(),
    )
    return http_load.post("/slack/events", "127.0.0.1", request.body, request.headers)


async def drain_jobs(cluster: BenchCluster, card_ids: list[str]) -> float:
    """Queue JOBS look-ups over `card_ids`; jobs per second until none is left."""
    env = cluster.env
    target = RedisTarget(
        url="redis://127.0.0.1/0",
        sentinels=sentinel_addresses(env["REDIS_SENTINELS"]),
        master=env["REDIS_SENTINEL_MASTER"],
    )
    jobs = SaqJobQueue.connect(target)
    try:
        started = time.monotonic()
        for i in range(JOBS):
            await jobs.enqueue(ATTACH_JOB, card_id=card_ids[i % len(card_ids)])
        while time.monotonic() - started < DRAIN_LIMIT_S:
            left = await jobs.queue.count("queued") + await jobs.queue.count("active")
            if left == 0:
                break
            await asyncio.sleep(0.05)
        return JOBS / (time.monotonic() - started)
    finally:
        await jobs.aclose()


async def measure(cluster: BenchCluster, webs: int, workers: int, n: int) -> Result:
    requests, _ = deliveries(INGEST_CLIENTS, seed=n, prefix=f"Scale{n}x")
    hello = http_load.get("/healthz", "127.0.0.1")
    await http_load.run(cluster.port, lambda i: hello, clients=INGEST_CLIENTS, total=100, seconds=5)
    before = sum(cpu_seconds(pid) for pid in cluster.web_pids)
    ingest = await http_load.run(
        cluster.port,
        lambda i: requests[i % len(requests)],
        clients=INGEST_CLIENTS,
        total=len(requests),
        seconds=INGEST_SECONDS,
    )
    cpu = sum(cpu_seconds(pid) for pid in cluster.web_pids) - before
    signed = [slash(cluster) for _ in range(ACK_REQUESTS + 20)]
    await http_load.run(
        cluster.port, lambda i: signed[i], clients=ACK_CLIENTS, total=20, seconds=10
    )
    before_ack = sum(cpu_seconds(pid) for pid in cluster.web_pids)
    ack = await http_load.run(
        cluster.port, lambda i: signed[20 + i], clients=ACK_CLIENTS, total=ACK_REQUESTS, seconds=60
    )
    ack_cpu = sum(cpu_seconds(pid) for pid in cluster.web_pids) - before_ack
    assert set(ack.statuses) == {200}, ack.statuses
    groups = (f"Scale{n}x{INGEST_CLIENTS}x{g:03d}" for g in range(50))  # bench.ingest's names
    cards = [card_id_for_group(f'{{}}:{{alertname="{group}"}}') for group in groups]
    worker_pids = [worker.pid for worker in cluster.workers]
    before_jobs = sum(cpu_seconds(pid) for pid in worker_pids)
    jobs_per_s = await drain_jobs(cluster, cards)
    worker_cpu = sum(cpu_seconds(pid) for pid in worker_pids) - before_jobs
    return Result(webs, workers, ingest, cpu, ack, ack_cpu, jobs_per_s, worker_cpu)


def table(results: list[Result]) -> str:
    lines = [
        f"{'web':>3} {'workers':>7} | {'ingest/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'web CPU':>7}"
        f" {'ms/req':>6} {'non-200':>7} | {'ack p50':>7} {'ack p99':>7} {'ms/req':>6} |"
        f" {'jobs/s':>6} {'ms/job':>6}"
    ]
    for r in results:
        errors = sum(n for status, n in r.ingest.statuses.items() if status != 200)
        lines.append(
            f"{r.webs:>3} {r.workers:>7} | {r.ingest.per_second:>8.0f}"
            f" {statistics.median(r.ingest.latencies_ms):>7.1f} {r.ingest.pct(0.99):>7.1f}"
            f" {r.web_cpu_s / r.ingest.elapsed_s:>7.0%} {1000 * r.web_cpu_s / r.ingest.count:>6.2f}"
            f" {errors:>7} | {statistics.median(r.ack.latencies_ms):>7.1f} {r.ack.pct(0.99):>7.1f}"
            f" {1000 * r.ack_cpu_s / r.ack.count:>6.2f} | {r.jobs_per_s:>6.0f}"
            f" {1000 * r.worker_cpu_s / JOBS:>6.2f}"
        )
    return "\n".join(lines)


def main() -> dict[str, object]:
    cluster = BenchCluster()
    results = []
    try:
        cluster.start()
        for n, (webs, workers) in enumerate(CONFIGS):
            cluster.configure(webs=webs, workers=workers)
            results.append(asyncio.run(measure(cluster, webs, workers, n)))
    finally:
        cluster.close()
    print(
        f"Processes: web behind HAProxy, Redis primary + replica + 3 Sentinels, WAIT on; ingest"
        f" = new deliveries at {INGEST_CLIENTS} clients for {INGEST_SECONDS:.0f} s, ack ="
        f" /playbook status at {ACK_CLIENTS} clients, jobs = {JOBS} queued look-ups drained"
    )
    print(table(results))
    print(
        "web CPU: the web processes' CPU time per second of the row (100% = one core); ms/req,"
        " ms/job: CPU time of the web (worker) processes per request (job): what a core buys"
    )
    return {"results": results}


if __name__ == "__main__":
    main()
