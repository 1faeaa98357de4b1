"""`seawall run`: the web process and a worker in one process, for one-box deployments.

The Procfile (`web: seawall serve`, `worker: seawall worker`) stays the shape for platforms
that scale each separately; this is the same two halves on one event loop, sharing one set of
clients. Stopping (SIGINT, SIGTERM) stops the web server first, then the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

import uvicorn

from bot.core.config import Settings
from bot.deps import Deps
from handlers.app import create_app
from handlers.worker import work


async def run_web_and_worker(
    settings: Settings, host: str, install_stop: Callable[[asyncio.Event], None]
) -> None:
    deps = Deps.connect(settings)
    stop = asyncio.Event()
    install_stop(stop)
    server = _Server(
        uvicorn.Config(
            create_app(settings, deps),  # its lifespan closes deps when the server stops
            host=host,
            port=settings.port,
            log_level="info",
            access_log=False,
        )
    )
    web = asyncio.create_task(server.serve())
    worker = asyncio.create_task(work(deps, stop))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({web, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()  # also when the web server stopped by itself (a bind error)
    await asyncio.gather(worker, stopping, return_exceptions=True)  # Redis is still open
    server.should_exit = True
    await asyncio.gather(web, return_exceptions=True)  # its lifespan closes the clients


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # `seawall run` stops both halves itself
        yield
