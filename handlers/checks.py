"""`seawall check`: every configuration and connectivity problem, in plain words."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import health, topology
from bot.core.clock import SystemClock
from bot.core.config import Settings, load_file_config, load_settings, paging_problems
from bot.core.errors import ConfigError, StoreUnavailable
from bot.core.redis_target import RedisTarget
from bot.core.slack import channel_id, make_client
from bot.store import REDIS_ERRORS, Store, connect
from playbooks.catalog.slot_lag.preflight import preflight
from playbooks.pausing import preflight as pause_preflight

Echo = Callable[[str], None]

NO_ACCESS_WARNING = (
    "! WARNING: SEAWALL_CONFIG has no `access:` section, so everyone in the Slack workspace "
    "may declare and resolve incidents, silence alerts, approve changes and run every "
    "playbook (a destructive step still asks its operator to confirm). Define roles and "
    "who may do what under `access:` (README, Configuration)."
)


async def run_checks(echo: Echo, settings: Settings | None = None) -> int:
    """Print a line per problem and return the exit status (0 when all is well)."""
    problems: list[str] = []
    if settings is None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            for problem in exc.problems:
                echo(f"✗ {problem}")
            echo(f"{len(exc.problems)} problem(s); connectivity not checked until they are fixed.")
            return 1
    try:
        config = load_file_config(settings.seawall_config)
    except ConfigError as exc:
        problems.extend(exc.problems)
        config = None

    redis_problems, warnings, topology = await _check_redis(settings)
    problems.extend(redis_problems)
    for line in topology:
        echo(f"· {line}")
    client = make_client(settings.slack_bot_token, settings.slack_api_url, retry_rate_limits=True)
    team = await _check_slack(client, settings, problems)
    channel = settings.seawall_channel
    if team != "?" and channel.startswith("#"):
        try:
            channel = f"{channel} ({await channel_id(client, channel)})"
        except ConfigError as exc:
            problems.extend(exc.problems)
    if settings.slack_app_token:
        problems.extend(await _check_socket_mode(client, settings.slack_app_token))
    if settings.alertmanager_url:
        problems.extend(await _check_alertmanager(settings.alertmanager_url))
    if settings.sentry_api_token and not settings.sentry_org:
        problems.append("SENTRY_ORG is not set: the Resolve/Ignore buttons need the org slug")
    if not settings.sentry_client_secret:
        echo("· SENTRY_CLIENT_SECRET is not set: Sentry webhooks will be refused (optional)")
    if not settings.alertmanager_url:
        echo("· ALERTMANAGER_URL is not set: the Silence button will say so (optional)")
    if config is not None and config.access is None:
        echo(NO_ACCESS_WARNING)
    if config is not None:
        playbook_problems, playbook_warnings = await preflight(config, os.environ)
        problems.extend(playbook_problems)
        warnings = [*warnings, *playbook_warnings]
        pause_problems, pause_warnings = pause_preflight(
            config.playbooks, settings.alertmanager_url
        )
        problems.extend(pause_problems)
        warnings = [*warnings, *pause_warnings]
        problems.extend(paging_problems(settings, config))
        if config.oncall is None:
            echo("· No `oncall:` section: nobody is paged, alerts only post cards (optional)")

    for warning in warnings:
        echo(f"⚠ {warning}")
    for problem in problems:
        echo(f"✗ {problem}")
    if problems:
        echo(f"{len(problems)} problem(s) found.")
        return 1
    routes = len(config.routes) if config else 0
    echo(
        f"✓ Seawall is ready: Slack workspace {team}, Redis {RedisTarget.of(settings).describe()}, "
        f"default channel {channel}, {routes} channel route(s)."
    )
    return 0


async def _check_redis(settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """(problems, warnings, what was found): unreachable is a problem; settings that can lose
    Seawall's state, a topology that cannot fail over safely and workers that are not beating
    are warnings (Seawall works, but should not stay so)."""
    target = RedisTarget.of(settings)
    where = "REDIS_SENTINELS" if target.uses_sentinel else "REDIS_URL"
    redis = connect(target)
    clock = SystemClock()
    try:
        await Store(redis, clock).ping()
        warnings = await health.redis_durability_warnings(redis)
        found = await topology.describe(redis, target)
        workers = (await health.workers_seen(redis, clock)).warning()
    except (StoreUnavailable, *REDIS_ERRORS) as exc:
        return [f"{where}: {exc} ({target.describe()})"], [], []
    finally:
        await redis.aclose()
    warnings += found.warnings(target, settings.seawall_replica_wait_ms)
    lines = found.lines(target, settings.seawall_replica_wait_ms)
    return [], warnings + ([workers] if workers else []), lines


async def _check_slack(client: AsyncWebClient, settings: Settings, problems: list[str]) -> str:
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        problems.append(
            f"SLACK_BOT_TOKEN was rejected by Slack's auth.test: {exc.response.get('error')}"
        )
        return "?"
    except Exception as exc:  # network errors of any kind: say which URL failed
        problems.append(f"SLACK_API_URL {settings.slack_api_url} is unreachable: {exc}")
        return "?"
    return str(response.get("team") or response.get("team_id") or "?")


async def _check_socket_mode(client: AsyncWebClient, app_token: str) -> list[str]:
    """The app-level token opens Socket Mode connections (the URL it gets expires unused)."""
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        return [
            f"SLACK_APP_TOKEN was refused by apps.connections.open ({exc.response.get('error')}):"
            " it needs the connections:write scope, and Socket Mode on in the app's settings"
        ]
    except Exception as exc:  # network: the auth.test line already says the URL is unreachable
        return [f"Socket Mode could not be checked: {exc}"]
    return []


async def _check_alertmanager(url: str) -> list[str]:
    try:
        async with httpx.AsyncClient(timeout=3) as http:
            response = await http.get(f"{url}/-/ready")
    except httpx.HTTPError as exc:
        return [f"ALERTMANAGER_URL {url} is unreachable: {exc}"]
    if response.status_code != 200:
        return [f"ALERTMANAGER_URL {url} is not ready (HTTP {response.status_code})"]
    return []
