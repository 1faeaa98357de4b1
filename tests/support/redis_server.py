"""A real redis-server child process on a free port, owned (and stopped) by PID."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.ports import HOST, free_port, is_listening

START_TIMEOUT = 10.0
STOP_GRACE = 5.0
LOG_TAIL_LINES = 30

# Every redis-server we started and have not stopped yet, so an interpreter that exits without
# running fixture teardown (a crash, a second Ctrl-C) still does not leave one behind.
_LIVE: set[subprocess.Popen[bytes]] = set()


class RedisStartError(RuntimeError):
    """redis-server did not come up; the message carries the end of its log."""


class _PortTaken(RedisStartError):
    pass


class RedisServer:
    """redis-server as a child process: no persistence, bound to 127.0.0.1 only."""

    def __init__(
        self, workdir: Path, port: int | None = None, executable: str = "redis-server"
    ) -> None:
        self.workdir = Path(workdir)
        self.executable = executable
        self._port_was_chosen_here = port is None
        self.port: int = port if port is not None else free_port()
        self.log_path = self.workdir / "redis-server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._has_started = False

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """PID of the running child, or None."""
        return self._proc.pid if self.is_running() and self._proc else None

    def start(self) -> None:
        """Start redis-server and return once it answers PING (timeout 10 s)."""
        if self.is_running():
            raise RuntimeError(f"redis-server is already running on port {self.port}")
        executable = shutil.which(self.executable)
        if executable is None:
            raise RedisStartError(
                f"{self.executable!r} is not on PATH; run ./scripts/install-system-deps.sh"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Only a port we picked ourselves may change; restart() must keep the same one.
        attempts = 3 if self._port_was_chosen_here and not self._has_started else 1
        for attempt in range(attempts):
            try:
                self._launch(executable)
            except _PortTaken:
                if attempt == attempts - 1:
                    raise
                self.port = free_port()
            else:
                self._has_started = True
                return

    def stop(self) -> None:
        """SIGTERM the child we started and wait; SIGKILL after 5 s. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)

    def kill(self) -> None:
        """SIGKILL the child (an outage drill: no clean shutdown)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.kill()
            proc.wait(STOP_GRACE)
        finally:
            _LIVE.discard(proc)

    def restart(self) -> None:
        """Stop (if running) and start again on the same port."""
        self.stop()
        self.start()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self, **kwargs: Any) -> redis.Redis:
        """A new sync client for this server; the caller closes it."""
        return redis.Redis.from_url(self.url, **kwargs)

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

    def log_text(self) -> str:
        """Everything redis-server has logged in this workdir (all runs)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self, executable: str) -> None:
        if is_listening(self.port):
            raise _PortTaken(f"port {self.port} is already in use by another process")
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [
            executable,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--daemonize", "no",
            "--logfile", "",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest reaches pytest, not the server
            )
        _LIVE.add(proc)
        self._proc = proc
        try:
            self._wait_until_ready(proc)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers_ping(proc.pid):
            code = proc.poll()
            if code is not None:
                tail = self._log_tail()
                error = _PortTaken if "Address already in use" in tail else RedisStartError
                raise error(
                    f"redis-server (pid {proc.pid}) exited with code {code} before answering "
                    f"PING on port {self.port}; log tail ({self.log_path}):\n{tail}"
                )
            if time.monotonic() > deadline:
                raise RedisStartError(
                    f"redis-server (pid {proc.pid}) did not answer PING on port {self.port} "
                    f"within {START_TIMEOUT:.0f} s; log tail ({self.log_path}):\n{self._log_tail()}"
                )
            time.sleep(0.02)

    def _answers_ping(self, pid: int) -> bool:
        """True once *our* process answers (not some other server that holds the port)."""
        # No retries: redis-py's default backoff would turn each refused connect into ~0.5 s.
        client = redis.Redis(
            host=HOST,
            port=self.port,
            socket_connect_timeout=0.2,
            socket_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            info = cast("dict[str, Any]", client.info("server"))  # sync client: a dict
            return bool(client.ping()) and info["process_id"] == pid
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            return False
        finally:
            client.close()

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return "(no log written)"
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            lines = log.read().decode(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(log is empty)"


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_GRACE)
    finally:
        _LIVE.discard(proc)


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_LIVE):
        _terminate(proc)
