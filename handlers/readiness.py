"""GET /readyz: can this web process do its job (Redis answers, Slack takes the token), and
what should an operator know (no worker beating, a Redis that can lose state).

Orchestrators probe it every few seconds, so Slack's auth.test is asked at most once a minute
per process (Slack rate-limits it like any method). Its answer never carries exception text:
a Redis error names the host and port, and probes are often public; the details go to the log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.core import health
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.store import REDIS_ERRORS

log = logging.getLogger("seawall.readyz")

SLACK_OK_FOR = timedelta(minutes=1)
# A failure is asked again sooner, so readiness comes back soon after Slack does.
SLACK_FAILED_FOR = timedelta(seconds=10)
REDIS_DOWN = "Redis is unreachable (details in Seawall's log)."


@dataclass
class _SlackAnswer:
    problem: str | None
    until: datetime


class ReadinessProbe:
    """The /readyz endpoint; one per app, so its Slack answer is shared by the process."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._slack: _SlackAnswer | None = None
        self._asking = asyncio.Lock()

    async def respond(self, request: Request) -> Response:
        problems: list[str] = []
        warnings: list[str] = []
        workers: health.Workers | None = None
        try:
            await self.deps.store.ping()
            warnings += await health.redis_durability_warnings(self.deps.redis)
            if self.deps.settings.redis_sentinels:
                warnings += await health.replica_warnings(self.deps.redis)
            workers = await health.workers_seen(self.deps.redis, self.deps.clock)
        except (StoreUnavailable, *REDIS_ERRORS) as exc:
            log.error("readyz: Redis check failed: %s", exc)
            problems.append(REDIS_DOWN)
        slack_problem = await self.slack_problem()
        if slack_problem:
            problems.append(slack_problem)
        if workers is not None and workers.warning():
            warnings.append(str(workers.warning()))
        body = {
            "ready": not problems,
            "problems": problems,
            "warnings": warnings,
            "workers": (
                {"alive": workers.alive, "last_seen_s": _rounded(workers.last_seen_s)}
                if workers is not None
                else None
            ),
        }
        return JSONResponse(body, status_code=503 if problems else 200)

    async def slack_problem(self) -> str | None:
        """None when Slack took the token within the last minute; else what is wrong."""
        async with self._asking:  # concurrent probes wait for one answer, not ask again
            now = self.deps.clock.now()
            if self._slack is None or now >= self._slack.until:
                problem = await self._ask_slack()
                keep = SLACK_FAILED_FOR if problem else SLACK_OK_FOR
                self._slack = _SlackAnswer(problem=problem, until=now + keep)
            return self._slack.problem

    async def _ask_slack(self) -> str | None:
        try:
            await asyncio.wait_for(self.deps.slack.auth_test(), timeout=3)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown_error")[:64]
            return f"Slack refused the bot token (auth.test: {error})."
        except Exception as exc:  # any failure means "not ready", whatever its type
            log.error("readyz: Slack auth.test failed: %r", exc)
            return "Slack's API is unreachable (details in Seawall's log)."
        return None


def _rounded(seconds: float | None) -> float | None:
    return round(seconds, 1) if seconds is not None else None
