"""The worker process: today, the outbound Slack poster."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.config import Settings
from handlers.deps import Deps

log = logging.getLogger("seawall.worker")


async def run_worker(settings: Settings, install_stop: Callable[[asyncio.Event], None]) -> None:
    deps = Deps.connect(settings)
    stop = asyncio.Event()
    install_stop(stop)
    try:
        await deps.poster().run(stop)
    finally:
        await deps.aclose()
