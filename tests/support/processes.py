"""The lifecycle shared by the real servers the tests run as child processes, owned by PID."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from tests.support.ports import free_port, is_listening

STOP_GRACE = 5.0
LOG_TAIL_LINES = 30

# Every child we started and have not stopped yet, so an interpreter that exits without
# running fixture teardown (a crash, a second Ctrl-C) still does not leave one behind.
_LIVE: dict[subprocess.Popen[bytes], signal.Signals] = {}


class ChildProcess(ABC):
    """One server program as a child process on a port, logging to a file in its workdir.

    A subclass says how to run the program and how to tell that it is ready; this class
    starts it (retrying on a taken port), stops it by PID, and reports its log on failure.
    """

    name: ClassVar[str]
    start_error: ClassVar[type[RuntimeError]]
    # A subclass of start_error: the one failure worth another port instead of giving up.
    port_taken_error: ClassVar[type[RuntimeError]]
    # What the program logs when its own bind fails; a probe from outside can miss a port
    # that is bound but not listening.
    port_taken_marker: ClassVar[str]
    start_timeout: ClassVar[float]
    poll_interval: ClassVar[float]
    # What stop() sends first; SIGKILL follows after STOP_GRACE. Postgres takes SIGTERM as a
    # "smart" shutdown that waits for every client to leave: it wants SIGINT (fast).
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    # Completions of "... exited before <ready_when>" and "... <not_ready> within N s",
    # formatted with {port} and {url}.
    ready_when: ClassVar[str]
    not_ready: ClassVar[str]

    def __init__(self, workdir: Path, port: int | None, executable: str, log_name: str) -> None:
        self.workdir = Path(workdir)
        self.executable = executable
        self._port_was_chosen_here = port is None
        self.port: int = port if port is not None else free_port()
        self.log_path = self.workdir / log_name
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._has_started = False

    @property
    @abstractmethod
    def url(self) -> str: ...

    @property
    def pid(self) -> int | None:
        """PID of the running child, or None."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def is_running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        """Start the program and return once it is ready; fail with the end of its log."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is already running on port {self.port}")
        executable = shutil.which(self.executable)
        if executable is None:
            raise self.start_error(
                f"{self.executable!r} is not on PATH; run ./scripts/install-system-deps.sh"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._prepare()
        # Only a port we picked ourselves may change; restart() must keep the same one.
        attempts = 3 if self._port_was_chosen_here and not self._has_started else 1
        for attempt in range(attempts):
            try:
                self._launch(executable)
            except self.port_taken_error:
                if attempt == attempts - 1:
                    raise
                self.port = free_port()
            else:
                self._has_started = True
                return

    def stop(self) -> None:
        """Signal the child we started (stop_signal) and wait; SIGKILL after 5 s. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc, self.stop_signal)

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
            _LIVE.pop(proc, None)

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP the child for the duration: alive, holding its sockets, answering nothing
        (a hung dependency, unlike a dead one that refuses connections)."""
        pid = self.pid
        if pid is None:
            raise RuntimeError(f"{self.name} is not running")
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def restart(self) -> None:
        """Stop (if running) and start again on the same port."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        """Everything the program has logged in this workdir (all runs)."""
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

    def _prepare(self) -> None:  # noqa: B027 - optional: most programs need nothing written
        """Runs before each start, once the workdir exists (e.g. to write a config file)."""

    @abstractmethod
    def _command(self, executable: str) -> list[str]: ...

    @abstractmethod
    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool: ...

    def _launch(self, executable: str) -> None:
        if is_listening(self.port):
            raise self.port_taken_error(f"port {self.port} is already in use by another process")
        # A failed start reports only its own run, not what earlier runs left in the log.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            proc = subprocess.Popen(
                self._command(executable),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest reaches pytest, not the server
            )
        _LIVE[proc] = self.stop_signal
        self._proc = proc
        try:
            self._wait_until_ready(proc)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not self._is_ready(proc):
            code = proc.poll()
            if code is not None:
                tail = self._log_tail()
                taken = self.port_taken_marker in tail
                error = self.port_taken_error if taken else self.start_error
                raise error(
                    f"{self.name} (pid {proc.pid}) exited with code {code} before "
                    f"{self._describe(self.ready_when)}; log tail ({self.log_path}):\n{tail}"
                )
            if time.monotonic() > deadline:
                raise self.start_error(
                    f"{self.name} (pid {proc.pid}) {self._describe(self.not_ready)} within "
                    f"{self.start_timeout:.0f} s; log tail ({self.log_path}):\n{self._log_tail()}"
                )
            time.sleep(self.poll_interval)

    def _describe(self, template: str) -> str:
        return template.format(port=self.port, url=self.url)

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return "(no log written)"
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            lines = log.read().decode(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(log is empty)"


def _terminate(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    try:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_GRACE)
    finally:
        _LIVE.pop(proc, None)


@atexit.register
def _stop_leftovers() -> None:
    for proc, sig in list(_LIVE.items()):
        _terminate(proc, sig)
