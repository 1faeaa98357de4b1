"""A port someone else already listens on, said in one line with the flag that changes it."""

from __future__ import annotations

import socket


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def port_in_use_message(
    port: int, command: str, flag: str, make_var: str | None = None
) -> str | None:
    """The sentence for a busy port (what to do about it), or None when it is free."""
    if not port_in_use(port):
        return None
    free = port + 1
    make = f", or `make demo {make_var}={free}`" if make_var else ""
    return (
        f"Port {port} is already in use (another Seawall or emulator?); nothing was started. "
        f"Pick a free one: `seawall {command} {flag} {free}`{make}."
    )
