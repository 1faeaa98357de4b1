"""Hostile bodies: resident memory of `seawall serve` around a 200 MB chunked, unsigned POST to
/slack/events, and how many of 50 sockets that send 2 bytes of a 100-byte body are still open
after the body deadline (SEAWALL_BODY_TIMEOUT, 10 s) plus a margin.

Before bodies were capped while read, the web process held the whole 200 MB body (and Bolt's
copies of it) before checking the signature, and the trickling sockets stayed open for good.
RSS is VmRSS from /proc/<pid>/status; the peak is VmHWM.
"""

from __future__ import annotations

import select
import socket
import time

from bench.procstat import peak_rss_mib, rss_mib
from bench.stack import start_stack

BODY = 200 * 1024 * 1024
CHUNK = 64 * 1024
SLOW_SOCKETS = 50
DEADLINE_S = 10.0
MARGIN_S = 3.0


def post_chunked(port: int, path: str) -> tuple[int, str]:
    """Send up to BODY bytes chunked; stop when answered. (bytes sent, status line)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    piece = b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n"
    sent = 0
    try:
        while sent < BODY:
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(piece)
            sent += CHUNK
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        answer = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    except ConnectionResetError:
        answer = "(connection reset)"
    sock.close()
    return sent, answer


def open_slow_sockets(port: int) -> list[socket.socket]:
    socks = []
    for _ in range(SLOW_SOCKETS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=1)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bench\r\nContent-Length: 100\r\n\r\n{}")
        socks.append(sock)
    return socks


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return False
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


def main() -> None:
    stack = start_stack()
    try:
        stack.start_web()
        assert stack.web is not None
        pid = stack.web.pid
        before = rss_mib(pid)
        started = time.monotonic()
        sent, answer = post_chunked(stack.web_port, "/slack/events")
        took = time.monotonic() - started
        time.sleep(1.0)
        after, peak = rss_mib(pid), peak_rss_mib(pid)
        socks = open_slow_sockets(stack.web_port)
        time.sleep(DEADLINE_S + MARGIN_S)
        open_count = sum(still_open(s) for s in socks)
        for sock in socks:
            sock.close()
    finally:
        stack.close()
    print("hostile bodies against `seawall serve` (one process)")
    print(f"  200 MB chunked POST /slack/events: answer {answer!r} after {took:.1f} s,")
    print(f"    client got {sent / 2**20:.1f} MiB of the body out before it")
    print(f"  RSS before {before:.0f} MiB, after {after:.0f} MiB, peak (VmHWM) {peak:.0f} MiB")
    print(
        f"  {SLOW_SOCKETS} sockets sending 2 of 100 bytes: {open_count} still open after "
        f"{DEADLINE_S + MARGIN_S:.0f} s"
    )


if __name__ == "__main__":
    main()
