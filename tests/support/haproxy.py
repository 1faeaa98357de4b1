"""A real HAProxy child process: one frontend, one backend of named servers, an admin socket."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.support.ports import HOST, free_port
from tests.support.processes import ChildProcess


class HAProxyStartError(RuntimeError):
    """haproxy did not come up; the message carries the end of its log."""


class _PortTaken(HAProxyStartError):
    pass


class HAProxyServer(ChildProcess):
    """haproxy in the foreground (we own its PID), backend `be` with the given servers.

    The servers need not exist: without `check`, HAProxy keeps them UP, which is all the
    runtime API needs. `balance roundrobin` is dynamic, so state changes apply at once.
    """

    name = "haproxy"
    start_error = HAProxyStartError
    port_taken_error = _PortTaken
    port_taken_marker = "Address already in use"
    start_timeout = 10.0
    poll_interval = 0.05
    ready_when = "answering on its admin socket"
    not_ready = "did not answer on its admin socket"

    def __init__(
        self,
        workdir: Path,
        servers: list[str],
        backend: str = "be",
        executable: str = "haproxy",
        ports: dict[str, int] | None = None,
    ) -> None:
        super().__init__(workdir, None, executable, "haproxy.log")
        self.servers = servers
        self.backend = backend
        self.socket_path = self.workdir / "admin.sock"
        # Where each server listens: given, to balance real servers (bench/cluster.py), or
        # free ports nothing listens on, which is all the runtime API needs.
        self.ports = ports or {}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _prepare(self) -> None:
        self.socket_path.unlink(missing_ok=True)  # a killed haproxy leaves it behind
        lines = [
            "global",
            f"  stats socket {self.socket_path} mode 600 level admin",
            "  stats timeout 2m",
            "defaults",
            "  mode http",
            "  timeout connect 1s",
            "  timeout client 5s",
            "  timeout server 5s",
            "frontend fe",
            f"  bind {HOST}:{self.port}",
            f"  default_backend {self.backend}",
            f"backend {self.backend}",
            "  balance roundrobin",
        ]
        lines += [
            f"  server {name} {HOST}:{self.ports.get(name) or free_port()}" for name in self.servers
        ]
        (self.workdir / "haproxy.cfg").write_text("\n".join(lines) + "\n")

    def _command(self, executable: str) -> list[str]:
        return [executable, "-db", "-f", str(self.workdir / "haproxy.cfg")]

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(1)
                client.connect(str(self.socket_path))
                client.sendall(b"show info\n")
                return b"Pid:" in client.recv(4096)
        except OSError:
            return False

    def admin(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            client.connect(str(self.socket_path))
            client.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()
