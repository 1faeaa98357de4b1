"""Seawall as separate real processes for benchmarks: redis-server, `seawall serve`,
`seawall worker`, and the Slack emulator (in this process, on its own thread)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.emulator import EmulatorConfig, SlackEmulator
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerThread
from tests.support.waiting import wait_until
from tests.support.workers import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret"
CHANNEL = "C0BENCH"
WEBHOOK_TOKEN = "bench-webhook-token"


@dataclass
class BenchStack:
    workdir: Path
    emulator: SlackEmulator
    redis: RedisServer
    emulator_server: ServerThread
    web_port: int
    env: dict[str, str]
    web: subprocess.Popen[bytes] | None = None
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_web(self) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SEAWALL_"))}
        log = (self.workdir / "web.log").open("ab")
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "handlers.cli",
                "--log-level",
                "warning",
                "serve",
                "--host",
                "127.0.0.1",
            ],
            env={**clean, **self.env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._web_ready, timeout=20, what="seawall serve")

    def _web_ready(self) -> bool:
        try:
            return httpx.get(f"{self.web_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self, name: str) -> WorkerProcess:
        worker = WorkerProcess(self.workdir, self.env, name)
        worker.start()
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        """Stop everything this stack started, by PID, even if one part is slow to stop."""
        try:
            for worker in self.workers:
                worker.stop()
            if self.web is not None:
                self.web.terminate()
                try:
                    self.web.wait(10)
                except subprocess.TimeoutExpired:
                    # Still finishing background work (e.g. response_url posts): stop it now.
                    self.web.kill()
                    self.web.wait(10)
        finally:
            try:
                self.emulator_server.stop()
            finally:
                self.redis.stop()


def start_stack(emulator_config: EmulatorConfig | None = None) -> BenchStack:
    workdir = Path(tempfile.mkdtemp(prefix="seawall-bench-"))
    redis = RedisServer(workdir / "redis")
    redis.start()
    emulator = SlackEmulator(
        emulator_config or EmulatorConfig(bot_token=TOKEN, channels={CHANNEL: "bench"})
    )
    emulator_server = ServerThread(emulator.app)
    emulator_server.start()
    config = workdir / "seawall.yml"
    config.write_text("playbook_modules: [bench.busy_playbook]\n")
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{emulator_server.url}/api/",
        "SEAWALL_CHANNEL": CHANNEL,
        "REDIS_URL": redis.url,
        "ALERTMANAGER_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "SEAWALL_CONFIG": str(config),
        "PORT": str(port),
    }
    return BenchStack(workdir, emulator, redis, emulator_server, port, env)
