"""FakeHttpServer: what every fake of an outside HTTP API shares (ntfy, Sentry, Kubernetes).

A subclass gives its routes; this serves them with uvicorn in a thread on a free port, and
gives the lock its handlers and the test thread share (handlers run on the server's loop,
the test reads what they recorded from its own thread)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from tests.support.servers import ServerThread


class FakeHttpServer:
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._lock = threading.Lock()
        self._server = ServerThread(Starlette(routes=list(routes)))

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

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
