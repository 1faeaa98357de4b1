"""Seawall as production runs it, for failover drills: `seawall serve` and `seawall worker`
processes on Redis with Sentinels, the Slack emulator in a thread, and a sender that delivers
webhooks the way Alertmanager does (retrying until it gets a 2xx)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.emulator import EmulatorConfig, SlackEmulator
from bot.emulator.sender import SlackSender
from tests.support.ports import free_port
from tests.support.servers import ServerThread
from tests.support.workers import WebProcess, WorkerProcess

# Alertmanager's notifier backs off exponentially between tries; shorter here, capped low
# so a drill sees recovery within a fraction of a second.
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 0.5
NO_ANSWER = 0  # recorded status when the connection failed or timed out


@dataclass
class Delivery:
    """One notification and every answer it got, in order."""

    group: str
    body: bytes
    statuses: list[int] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # time.monotonic() of each answer
    answered_by: list[str] = field(default_factory=list)  # which web process (its URL)

    @property
    def acknowledged(self) -> bool:
        return 200 in self.statuses

    def answers(self) -> list[tuple[int, float, str]]:
        return list(zip(self.statuses, self.answered_at, self.answered_by, strict=True))


class RetryingSender:
    """Sends deliveries until each is answered 2xx, over the web processes in turn (as a load
    balancer in front of them would), on a few threads: a stream, not one request at a time."""

    def __init__(self, urls: list[str], token: str, threads: int = 4, give_up_s: float = 90):
        self.urls = urls
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.give_up_s = give_up_s
        self._pool = ThreadPoolExecutor(max_workers=threads)
        self._futures: list[Future[None]] = []
        self._turn = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def _client(self) -> httpx.Client:
        if not hasattr(self._local, "client"):
            self._local.client = httpx.Client(timeout=5)
        client: httpx.Client = self._local.client
        return client

    def _next_url(self) -> str:
        with self._lock:
            self._turn += 1
            return self.urls[self._turn % len(self.urls)]

    def send_once(self, delivery: Delivery, url: str | None = None) -> int:
        """One try (to `url`, or the next web process in turn); its answer is recorded."""
        url = url or self._next_url()
        try:
            response = self._client().post(
                f"{url}/webhooks/alertmanager", content=delivery.body, headers=self.headers
            )
            status = response.status_code
        except httpx.HTTPError:
            status = NO_ANSWER
        delivery.statuses.append(status)
        delivery.answered_at.append(time.monotonic())
        delivery.answered_by.append(url)
        return status

    def _until_acknowledged(self, delivery: Delivery, url: str | None) -> None:
        deadline = time.monotonic() + self.give_up_s
        backoff = FIRST_BACKOFF_S
        while not 200 <= self.send_once(delivery, url) < 300 and time.monotonic() < deadline:
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def submit(self, deliveries: Iterable[Delivery], url: str | None = None) -> None:
        """Send in the background until each is acknowledged (or give_up_s passes), to `url`
        only or to every web process in turn."""
        for delivery in deliveries:
            self._futures.append(self._pool.submit(self._until_acknowledged, delivery, url))

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for future in self._futures:
            future.result(timeout=max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class SeawallCluster:
    """The emulator (a thread of this process), `webs` serve processes and `workers` worker
    processes sharing one environment (its Redis settings decide where they all go)."""

    def __init__(
        self, workdir: Path, env: dict[str, str], emulator: EmulatorConfig, webs: int, workers: int
    ) -> None:
        self.emulator = SlackEmulator(emulator)
        self.emulator_server = ServerThread(self.emulator.app)
        self.workdir = workdir
        self.env = env
        self.web_count, self.worker_count = webs, workers
        self.webs: list[WebProcess] = []
        self.workers: list[WorkerProcess] = []

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.emulator_server.start()
        self.env = self.env | {"SLACK_API_URL": f"{self.emulator_server.url}/api/"}
        self.webs = [
            WebProcess(self.workdir, self.env | {"PORT": str(free_port())}, str(n))
            for n in range(self.web_count)
        ]
        self.workers = [
            WorkerProcess(self.workdir, self.env, str(n)) for n in range(self.worker_count)
        ]
        processes = [*self.webs, *self.workers]
        for process in processes:  # all at once: each spends ~2 s importing
            process.launch()
        for process in processes:
            process.wait_started()

    @property
    def urls(self) -> list[str]:
        return [web.url for web in self.webs]

    def slack_sender(self, web: int = 0) -> SlackSender:
        return SlackSender(
            bot_url=f"{self.webs[web].url}/slack/events",
            signing_secret=self.env["SLACK_SIGNING_SECRET"],
            emulator=self.emulator,
            emulator_url=self.emulator_server.url,
        )

    def logs(self) -> str:
        """The end of every process's log, for a failure message."""
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log()[-3000:]}" for p in [*self.webs, *self.workers]
        )

    def stop(self) -> None:
        try:
            for process in [*self.webs, *self.workers]:
                process.stop()
        finally:
            self.emulator_server.stop()
