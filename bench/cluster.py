"""Seawall as production runs it, for benchmarks: Redis with a replica and three Sentinels,
N `seawall serve` processes behind a real HAProxy (round robin, keep-alive), M
`seawall worker` processes, and the Slack emulator in a thread of this process.

`configure(webs, workers, **env)` replaces the processes (Redis and its data stay), so one
run can compare 1 and 2 of each, and WAIT on and off, on the same machine in the same minute.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.stack import CHANNEL, SECRET, TOKEN, WEBHOOK_TOKEN
from bot.emulator import EmulatorConfig, SlackEmulator
from tests.support.haproxy import HAProxyServer
from tests.support.ports import free_port
from tests.support.sentinel import RedisWithSentinels
from tests.support.servers import ServerThread
from tests.support.workers import WebProcess, WorkerProcess


class BenchCluster:
    def __init__(self, emulator_config: EmulatorConfig | None = None) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="seawall-cluster-"))
        self.redis = RedisWithSentinels(self.workdir / "redis")
        self.emulator = SlackEmulator(
            emulator_config or EmulatorConfig(bot_token=TOKEN, channels={CHANNEL: "bench"})
        )
        self.emulator_server = ServerThread(self.emulator.app)
        self.webs: list[WebProcess] = []
        self.workers: list[WorkerProcess] = []
        self.balancer: HAProxyServer | None = None
        self._generation = 0

    def start(self) -> None:
        self.redis.start()
        self.emulator_server.start()
        config = self.workdir / "seawall.yml"
        config.write_text("playbook_modules: [bench.busy_playbook]\n")
        self.env = {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"{self.emulator_server.url}/api/",
            "SEAWALL_CHANNEL": CHANNEL,
            "ALERTMANAGER_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "SEAWALL_CONFIG": str(config),
            **self.redis.env(),
        }

    def configure(self, webs: int, workers: int, **env: str) -> None:
        """Stop the current processes, start `webs` web and `workers` worker processes with
        `env` added, and (re)start HAProxy in front of the web processes."""
        self.stop_processes()
        self._generation += 1
        run_env = self.env | env
        workdir = self.workdir / f"run-{self._generation}"
        workdir.mkdir()
        self.webs = [
            WebProcess(workdir, run_env | {"PORT": str(free_port())}, str(n)) for n in range(webs)
        ]
        self.workers = [WorkerProcess(workdir, run_env, str(n)) for n in range(workers)]
        processes = [*self.webs, *self.workers]
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_started()
        names = [f"web{n}" for n in range(webs)]
        self.balancer = HAProxyServer(
            workdir / "haproxy",
            names,
            ports={name: int(web.env["PORT"]) for name, web in zip(names, self.webs, strict=True)},
        )
        self.balancer.start()

    @property
    def port(self) -> int:
        """Where clients connect: HAProxy."""
        assert self.balancer is not None
        return self.balancer.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_pids(self) -> list[int]:
        return [web.pid for web in self.webs]

    def stop_processes(self) -> None:
        if self.balancer is not None:
            self.balancer.stop()
            self.balancer = None
        for process in [*self.webs, *self.workers]:
            process.stop()
        self.webs, self.workers = [], []

    def close(self) -> None:
        try:
            self.stop_processes()
        finally:
            try:
                self.emulator_server.stop()
            finally:
                self.redis.stop()
