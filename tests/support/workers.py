"""`seawall worker` and `seawall serve` as real child processes, for crash drills (SIGKILL
mid-step) and failover drills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.ports import HOST
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """One `seawall worker` with the given environment; owned and stopped by PID."""

    command: tuple[str, ...] = ("worker",)
    what = "the worker"

    def __init__(self, workdir: Path, env: dict[str, str], name: str) -> None:
        self.log_path = Path(workdir) / f"{self.command[0]}-{name}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.launch()
        self.wait_started()

    def launch(self) -> None:
        """Start the process without waiting for it (start several, then wait for each)."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SEAWALL_"))}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "handlers.cli", *self.command],
                env={**clean, **self.env},
                cwd=ROOT,  # python -m puts ROOT first on sys.path: this tree's code runs
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_started(self) -> None:
        wait_until(
            lambda: self.is_started() or self.proc.poll() is not None,  # type: ignore[union-attr]
            timeout=20,
            what=f"{self.what} to start",
        )
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.what} exited at start:\n{self.log()[-2000:]}")

    def is_started(self) -> bool:
        return "worker" in self.log() and "started on queue" in self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye; exactly what a crash or OOM kill looks like."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def worker_env(settings: object, config_path: Path) -> dict[str, str]:
    """The environment a `seawall worker` needs to join a test stack (its Settings)."""
    s = settings
    return {
        "SLACK_BOT_TOKEN": s.slack_bot_token,  # type: ignore[attr-defined]
        "SLACK_SIGNING_SECRET": s.slack_signing_secret,  # type: ignore[attr-defined]
        "SLACK_API_URL": s.slack_api_url,  # type: ignore[attr-defined]
        "SEAWALL_CHANNEL": s.seawall_channel,  # type: ignore[attr-defined]
        "REDIS_URL": s.redis_url,  # type: ignore[attr-defined]
        "ALERTMANAGER_WEBHOOK_TOKEN": s.alertmanager_webhook_token,  # type: ignore[attr-defined]
        "SEAWALL_CONFIG": str(config_path),
        "SEAWALL_POST_INTERVAL": "0.05",
    }


class WebProcess(WorkerProcess):
    """One `seawall serve` on 127.0.0.1 and the port in its env's PORT; owned by PID."""

    command = ("serve", "--host", HOST)
    what = "the web process"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.env['PORT']}"

    def is_started(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
