"""A real `celery worker` child process (tests/fixtures/celery_app.py), owned by PID.

Pool and size are the test's choice: prefork (pool_grow / pool_shrink work) or solo (they do
not); `--without-gossip --without-mingle` keep start-up short and quiet."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.processes import ChildProcess

APP = "tests.fixtures.celery_app"
ROOT = Path(__file__).resolve().parents[2]


class CeleryStartError(RuntimeError):
    """The worker did not come up; the message carries the end of its log."""


class _Never(CeleryStartError):
    """A worker binds no port, so it never meets a taken one."""


class CeleryWorker(ChildProcess):
    """`celery -b <broker> -A tests.fixtures.celery_app worker -Q <queues> -n <node>`.

    `port` is unused (a worker listens on nothing); start() returns once the worker logged
    that it is ready, i.e. consumes its queues and answers remote control."""

    name = "celery worker"
    start_error = CeleryStartError
    port_taken_error = _Never
    port_taken_marker = "\0never\0"
    start_timeout = 30.0
    poll_interval = 0.1
    ready_when = "logging that it is ready"
    not_ready = "did not log that it is ready"

    def __init__(
        self,
        workdir: Path,
        broker: str,
        node: str,
        queues: list[str],
        *,
        pool: str = "prefork",
        concurrency: int = 2,
    ) -> None:
        super().__init__(workdir, None, sys.executable, f"celery-{node.split('@')[0]}.log")
        self.broker = broker
        self.node = node
        self.queues = queues
        self.pool = pool
        self.concurrency = concurrency

    @property
    def url(self) -> str:
        return self.broker

    def _command(self, executable: str) -> list[str]:
        return [
            executable, "-m", "celery", "-b", self.broker, "--workdir", str(ROOT), "-A", APP,
            "worker", "-Q", ",".join(self.queues), "-n", self.node, "-P", self.pool,
            "-c", str(self.concurrency), "--without-gossip", "--without-mingle", "-l", "info",
        ]  # fmt: skip

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        return f"{self.node} ready." in self.log_text()[self._log_offset :]

    def stop(self) -> None:
        """SIGKILL the worker and its pool processes (its process group: it leads its own
        session). Its broker is thrown away with it, so nothing needs a clean shutdown, and
        even Celery's cold one takes a second per worker."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        super().stop()
