"""Ack latency: how fast the web process answers Slack while a worker is busy.

Signed slash commands and button clicks at 1, 10 and 50 concurrent clients, beside a
hello-world route (GET /healthz) on the same server and port in the same run. `/playbook
help` touches no Redis: it shows what Bolt itself costs; `/playbook status` reads one key;
a click enqueues a job. Slack allows
3 s; the goals are p99 < 300 ms (issue 3) and p99 < 2x the hello-world p99 (issue 6).
Requests go out through bench.http_load's keep-alive connections: an httpx client in this
process (which also runs the emulator) added hundreds of ms of its own at 50 clients.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench import http_load
from bench.procstat import cpu_seconds
from bench.stack import CHANNEL, SECRET, WEBHOOK_TOKEN, BenchStack, start_stack
from bot.emulator.payloads import (
    SignedRequest,
    TeamInfo,
    build_block_action,
    build_slash_command,
    sign,
)
from tests.support.waiting import wait_until

REQUESTS_PER_LEVEL = 300
LEVELS = (1, 10, 50)
USER = "U0BENCH"


@dataclass
class Result:
    name: str
    clients: int
    latencies_ms: list[float]
    web_cpu_s: float  # CPU time the web process used for these requests

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.web_cpu_s / len(self.latencies_ms)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def slash_request(stack: BenchStack, text: str = "status nosuchrun") -> SignedRequest:
    return build_slash_command(
        signing_secret=SECRET,
        team=TeamInfo(),
        command="/playbook",
        text=text,
        user_id=USER,
        user_name="bench",
        channel_id=CHANNEL,
        channel_name="bench",
        response_url=stack.emulator.issue_response_url(stack.emulator_server.url, CHANNEL, USER),
        trigger_id=stack.emulator.issue_trigger_id(),
    )


def click_request(stack: BenchStack, ts: str, value: str) -> SignedRequest:
    return build_block_action(
        signing_secret=SECRET,
        team=TeamInfo(),
        action_id="card.ack",
        value=value,
        user_id=USER,
        user_name="bench",
        channel_id=CHANNEL,
        channel_name="bench",
        message_ts=ts,
        block_id="b",
        button_text="Acknowledge",
        message=None,
        response_url=stack.emulator.issue_response_url(stack.emulator_server.url, CHANNEL, USER),
        trigger_id=stack.emulator.issue_trigger_id(),
    )


def a_card(stack: BenchStack) -> tuple[str, str]:
    alert = {
        "version": "4",
        "groupKey": "bench",
        "status": "firing",
        "receiver": "bench",
        "commonLabels": {"alertname": "Bench"},
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Bench"},
                "startsAt": "2026-01-01T00:00:00Z",
            }
        ],
    }
    httpx.post(
        f"{stack.web_url}/webhooks/alertmanager",
        json=alert,
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
    ).raise_for_status()
    message = wait_until(
        lambda: next(
            (m for m in stack.emulator.messages(CHANNEL) if "Bench" in json.dumps(m.blocks)), None
        ),
        timeout=20,
        what="the alert card",
    )
    actions = next(b for b in message.blocks if b["type"] == "actions")
    value = next(e["value"] for e in actions["elements"] if e["action_id"] == "card.ack")
    return message.ts, value


async def run_levels(stack: BenchStack) -> list[Result]:
    ts, value = a_card(stack)
    host = "127.0.0.1"
    assert stack.web is not None
    web_pid = stack.web.pid

    def signed(request: SignedRequest) -> bytes:
        return http_load.post("/slack/events", host, request.body, request.headers)

    # Each request is signed (and its response_url issued) before its clock starts.
    kinds: tuple[tuple[str, Callable[[int], bytes]], ...] = (
        ("hello-world GET /healthz", lambda i: http_load.get("/healthz", host)),
        # Signature check, Bolt's parsing and dispatch, no Redis: the floor of a Slack request.
        ("slash /playbook help", lambda i: signed(slash_request(stack, "help"))),
        ("slash /playbook status", lambda i: signed(slash_request(stack))),
        ("button click Acknowledge", lambda i: signed(click_request(stack, ts, value))),
    )
    results = []
    for clients in LEVELS:
        for name, request_for in kinds:
            await http_load.run(  # warm-up, not counted
                stack.web_port, request_for, clients=clients, total=20, seconds=30
            )
            before = cpu_seconds(web_pid)
            load = await http_load.run(
                stack.web_port, request_for, clients=clients, total=REQUESTS_PER_LEVEL, seconds=60
            )
            cpu = cpu_seconds(web_pid) - before
            assert set(load.statuses) == {200}, (name, load.statuses, load.last_body[:300])
            results.append(Result(name, clients, load.latencies_ms, cpu))
    return results


def table(results: list[Result]) -> str:
    lines = [
        f"{'request':28} {'clients':>7} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'p99/hello':>10} {'CPU ms/req':>10}"
    ]
    baseline = {r.clients: r.pct(0.99) for r in results if r.name.startswith("hello")}
    for r in results:
        ratio = r.pct(0.99) / baseline[r.clients] if baseline[r.clients] else float("nan")
        p50 = statistics.median(r.latencies_ms)
        lines.append(
            f"{r.name:28} {r.clients:>7} {len(r.latencies_ms):>5} {p50:>8.1f}"
            f" {r.pct(0.99):>8.1f} {max(r.latencies_ms):>8.1f} {ratio:>10.2f}"
            f" {r.cpu_ms_per_request:>10.2f}"
        )
    return "\n".join(lines)


def main() -> dict[str, object]:
    stack = start_stack()
    try:
        stack.start_web()
        stack.start_worker("busy")
        # Keep the worker busy for the whole measurement with a CPU-bound step.
        r = slash_request(stack)
        body = r.body.replace(b"status+nosuchrun", b"busy+seconds%3D120")
        ts = r.headers["X-Slack-Request-Timestamp"]
        headers = {**r.headers, "X-Slack-Signature": sign(body, int(ts), SECRET)}
        httpx.post(f"{stack.web_url}/slack/events", content=body, headers=headers)
        wait_until(
            lambda: "busy" in json.dumps([m.blocks for m in stack.emulator.messages(CHANNEL)]),
            timeout=20,
            what="the busy run card",
        )
        busy = stack.workers[0].log()
        results = asyncio.run(run_levels(stack))
        assert "burned" not in busy  # the worker was still busy when measuring began
    finally:
        stack.close()
    print("Ack latency while a worker runs a CPU-bound step (web: one `seawall serve` process)")
    print(table(results))
    worst = max(r.pct(0.99) for r in results if not r.name.startswith("hello"))
    print(f"worst Slack-request p99: {worst:.1f} ms (goal < 300 ms; Slack's limit 3000 ms)")
    print("CPU ms/req: CPU time of the web process (one process, one core) per request")
    return {"results": results, "worst_p99_ms": worst}


if __name__ == "__main__":
    main()
