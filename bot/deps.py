"""Deps: every client and service Seawall needs, built once from Settings and injected.

It lives in bot/ because the playbook engine needs it too; only handlers/ builds it. The
outbound poster is not here: the composition root (handlers/) builds it from these parts."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.clock import Clock, SystemClock
from bot.core.config import FileConfig, Settings, load_file_config, paging_problems
from bot.core.errors import ConfigError
from bot.core.jobs import InlineJobQueue, JobQueue, SaqJobQueue
from bot.core.metrics import Metrics
from bot.core.redis_target import RedisTarget
from bot.core.replication import ReplicaWait
from bot.core.slack import make_client
from bot.store import REDIS_ERRORS, Store, connect
from bot.timeline import Timeline

# Roles another feature grants (the on-call person counts as a responder): user id and action
# -> extra roles. The composition root installs it (handlers/wiring.py), since the feature that
# knows (paging) may not be imported by the ones that ask (access, the playbook engine).
RoleSource = Callable[[str, str | None], Awaitable[set[str]]]


async def no_extra_roles(user_id: str, action: str | None) -> set[str]:
    return set()


# The first line of the storm card of the first of these channels in a storm (None: none is),
# for pages about a storm. Installed by the composition root, since the feature that knows
# (storm) may not be imported by the one that asks (paging).
HeadlineSource = Callable[[list[str]], Awaitable[str | None]]


async def no_headline(channels: list[str]) -> str | None:
    return None


@dataclass
class Deps:
    settings: Settings
    config: FileConfig
    redis: aioredis.Redis
    store: Store
    timeline: Timeline
    slack: AsyncWebClient  # interactive replies: retries 429 itself
    poster_slack: AsyncWebClient  # card posting: 429s handled by the poster via Redis
    http: httpx.AsyncClient  # Alertmanager and Sentry APIs
    clock: Clock
    metrics: Metrics
    jobs: JobQueue
    replicas: ReplicaWait
    extra_roles: RoleSource = no_extra_roles
    storm_headline: HeadlineSource = no_headline

    @classmethod
    def connect(
        cls,
        settings: Settings,
        *,
        redis: aioredis.Redis | None = None,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        config: FileConfig | None = None,
        jobs: JobQueue | None = None,
    ) -> Deps:
        clock = clock or SystemClock()
        config = config if config is not None else load_file_config(settings.seawall_config)
        problems = paging_problems(settings, config)
        if problems:
            raise ConfigError(problems)
        target = RedisTarget.of(settings)
        redis = redis if redis is not None else connect(target)
        retention = config.retention
        metrics = metrics or Metrics()
        return cls(
            settings=settings,
            config=config,
            redis=redis,
            store=Store(redis, clock, retention),
            timeline=Timeline(
                redis=redis,
                clock=clock,
                max_entries=retention.timeline_max_entries,
                orphan_ttl=retention.timelines,
            ),
            slack=make_client(
                settings.slack_bot_token, settings.slack_api_url, retry_rate_limits=True
            ),
            poster_slack=make_client(
                settings.slack_bot_token, settings.slack_api_url, retry_rate_limits=False
            ),
            http=httpx.AsyncClient(headers={"User-Agent": "Seawall"}),
            clock=clock,
            metrics=metrics,
            jobs=jobs if jobs is not None else SaqJobQueue.connect(target),
            replicas=ReplicaWait(
                timeout_ms=settings.seawall_replica_wait_ms,
                replicas=settings.seawall_replica_acks,
                metrics=metrics,
            ),
        )

    def on(self, redis: aioredis.Redis) -> Deps:
        """These Deps with every Redis command of the store and timeline sent through `redis`
        (a pinned connection: bot/core/replication.py). The job queue keeps its own client."""
        return dataclasses.replace(
            self,
            redis=redis,
            store=Store(redis, self.clock, self.config.retention),
            timeline=Timeline(
                redis=redis,
                clock=self.clock,
                max_entries=self.config.retention.timeline_max_entries,
                orphan_ttl=self.config.retention.timelines,
            ),
        )

    async def aclose(self) -> None:
        """Close everything; a dependency that is down must not make shutdown fail."""
        if isinstance(self.jobs, SaqJobQueue | InlineJobQueue):
            with contextlib.suppress(*REDIS_ERRORS):
                await self.jobs.aclose()
        await self.http.aclose()
        with contextlib.suppress(*REDIS_ERRORS):
            await self.redis.aclose()
