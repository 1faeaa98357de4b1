"""An ASGI app served by uvicorn in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import uvicorn

from tests.support.ports import free_port

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0

T = TypeVar("T")


class ServerThreadError(RuntimeError):
    """The server did not start, or did not shut down cleanly."""


class ServerThread:
    """Runs an ASGI app under uvicorn in a background thread with its own event loop.

    The app's lifespan runs (startup before start() returns, shutdown inside stop()), so a
    test exercises the same wiring as production. Tasks started with spawn() are cancelled
    before the server shuts down.
    """

    def __init__(
        self,
        app: Any,
        port: int | None = None,
        host: str = "127.0.0.1",
        on_loop_started: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port: int = port if port is not None else free_port()
        self.on_loop_started = on_loop_started
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._spawned: set[asyncio.Task[Any]] = set()  # touched only on the loop thread
        self._errors = _ErrorLog()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("ServerThread has no event loop: call start() first")
        return self._loop

    def start(self) -> None:
        """Start the thread; return once lifespan startup ran and the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError(f"ServerThread on {self.url} was already started")
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            log_config=None,  # leave logging to pytest; uvicorn's dictConfig would replace it
        )
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{id(self):x}", daemon=True)
        self._errors.thread_name = self._thread.name
        logging.getLogger("uvicorn.error").addHandler(self._errors)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive():
                self._thread.join()
                self._thread = None  # nothing left for stop() to do
                self._detach_error_log()
                raise ServerThreadError(
                    f"the ASGI server on {self.url} stopped during startup "
                    f"({self._describe_thread_error()}); uvicorn said:\n{self._errors.text()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServerThreadError(
                    f"the ASGI server on {self.url} did not start within {START_TIMEOUT:.0f} s; "
                    f"uvicorn said:\n{self._errors.text()}"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        """Cancel spawned tasks, run lifespan shutdown, join the thread. Idempotent."""
        thread, server = self._thread, self._server
        if thread is None or server is None:
            return
        try:
            if thread.is_alive() and self.loop.is_running():
                # If this fails the loop is going away anyway; _run cancels any leftovers.
                with contextlib.suppress(RuntimeError, TimeoutError):
                    self.run_coroutine(self._cancel_spawned(), timeout=STOP_TIMEOUT)
            server.should_exit = True
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                raise ServerThreadError(
                    f"the ASGI server on {self.url} did not stop within {2 * STOP_TIMEOUT:.0f} s"
                )
        finally:
            self._thread = None
            self._detach_error_log()
        lifespan = getattr(server, "lifespan", None)
        if lifespan is not None and (lifespan.shutdown_failed or lifespan.error_occurred):
            raise ServerThreadError(
                f"the app on {self.url} failed during lifespan shutdown; uvicorn said:\n"
                f"{self._errors.text()}"
            )

    def run_coroutine(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        self._require_running(coro)
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule a long-running task on the server's loop; stop() cancels it."""
        self._require_running(coro)
        return asyncio.run_coroutine_threadsafe(self._tracked(coro), self.loop)

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

    # --- the server thread ------------------------------------------------------------------

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # SystemExit is how uvicorn reports a failed startup
            self._thread_error = exc
        finally:
            try:
                _cancel_leftover_tasks(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def _serve(self) -> None:
        assert self._server is not None
        if self.on_loop_started is not None:
            # On the loop thread with the loop running, before the app's lifespan startup.
            self.on_loop_started(asyncio.get_running_loop())
        await self._server.serve()

    async def _tracked(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._spawned.add(task)
        try:
            return await coro
        finally:
            self._spawned.discard(task)

    async def _cancel_spawned(self) -> None:
        tasks = list(self._spawned)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- helpers ------------------------------------------------------------------------------

    def _require_running(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._thread is None or self._loop is None or not self._loop.is_running():
            coro.close()  # avoid "coroutine was never awaited"
            raise RuntimeError(f"ServerThread on {self.url} is not running")

    def _describe_thread_error(self) -> str:
        error = self._thread_error
        if error is None:
            return "no exception"
        if isinstance(error, SystemExit):
            return f"uvicorn exited with code {error.code}"
        return f"{type(error).__name__}: {error}"

    def _detach_error_log(self) -> None:
        logging.getLogger("uvicorn.error").removeHandler(self._errors)


class _ErrorLog(logging.Handler):
    """Keeps this server's uvicorn error records so a failure can say what went wrong."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread_name = ""
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName == self.thread_name:  # other ServerThreads log to the same logger
            self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines[-40:]) or "(nothing logged)"


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
