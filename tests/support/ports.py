"""Free TCP ports on 127.0.0.1 for the processes the integration tests start."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """Bind 127.0.0.1:0, close the socket, and return the port the kernel chose.

    Another process could take the port between this call and the caller's bind; the helpers
    that start servers on a port they chose themselves retry with a new one when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def is_listening(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
