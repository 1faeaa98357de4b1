"""The `seawall` command: serve, worker, run, sandbox, emulator, send, check, postmortem."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click
import httpx
import uvicorn

from bot.core.config import Settings, load_settings
from bot.core.errors import ConfigError
from bot.core.slack import channel_id, make_client
from handlers.app import create_app
from handlers.checks import run_checks
from handlers.emulator_server import APP_URL, run_emulator
from handlers.postmortem import PostmortemSettings, write_postmortem
from handlers.run import run_web_and_worker
from handlers.sandbox import run_sandbox
from handlers.send import SendError, SendSettings, send_alert, send_sentry, send_slash
from handlers.worker import run_worker


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo("Seawall cannot start; fix these settings first:", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        click.echo(
            "Run `seawall check` after fixing them; README.md lists every setting.", err=True
        )
        sys.exit(2)


def _with_channel_id(settings: Settings) -> Settings:
    """SEAWALL_CHANNEL given as #name: asked of Slack once, here, before anything serves."""
    if not settings.seawall_channel.startswith("#"):
        return settings
    client = make_client(settings.slack_bot_token, settings.slack_api_url, retry_rate_limits=True)
    try:
        found = asyncio.run(channel_id(client, settings.seawall_channel))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(2)
    logging.getLogger("seawall").info("SEAWALL_CHANNEL %s is %s", settings.seawall_channel, found)
    return settings.model_copy(update={"seawall_channel": found})


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per event, with ids: libraries that log every request or dump a whole job at
    # INFO drown what matters at 3 a.m. (the worker logs one line per job itself).
    for noisy in ("httpx", "saq", "slack_sdk", "slack_bolt"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


@click.group()
@click.option("--log-level", default="info", show_default=True, help="debug, info, warning…")
def main(log_level: str) -> None:
    """Seawall: Alertmanager and Sentry alerts as Slack triage cards."""
    _logging(log_level)


@main.command()
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104  a web process behind a load balancer listens on all interfaces
    show_default=True,
)
def serve(host: str) -> None:
    """Web process: Slack events, commands and buttons, and the webhooks."""
    settings = _with_channel_id(_settings_or_exit())
    try:
        app = create_app(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)
    uvicorn.run(app, host=host, port=settings.port, log_level="info", access_log=False)


@main.command()
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104  as `serve`
    show_default=True,
)
def run(host: str) -> None:
    """Web process and worker in one process (one-box deployments; the Procfile splits them)."""
    settings = _with_channel_id(_settings_or_exit())
    asyncio.run(run_web_and_worker(settings, host, _stop_on_signals))


@main.command()
def worker() -> None:
    """Worker process: posts and updates cards in Slack (any number may run)."""
    settings = _settings_or_exit()
    try:
        asyncio.run(run_worker(settings, _stop_on_signals))
    except ConfigError as exc:  # e.g. a playbook's schedule in SEAWALL_CONFIG
        click.echo("The worker cannot start; fix these settings first:", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@main.command()
def check() -> None:
    """Check configuration and connectivity; print every problem; exit 1 if any."""
    sys.exit(asyncio.run(run_checks(click.echo)))


@main.command()
@click.option("--port", default=3000, show_default=True, help="Seawall's HTTP port.")
@click.option("--emulator-port", default=8888, show_default=True, help="Slack emulator port.")
@click.option(
    "--exit-after-samples",
    is_flag=True,
    help="Stop once the sample cards are in the emulator (for tests and CI).",
)
def sandbox(port: int, emulator_port: int, exit_after_samples: bool) -> None:
    """Everything in one process, no Slack account, no Redis: the `make demo` target."""
    sys.exit(asyncio.run(run_sandbox(port, emulator_port, exit_after_samples, click.echo)))


@main.command()
@click.option("--port", default=8888, show_default=True, help="The emulator's HTTP port.")
@click.option(
    "--app-url",
    default=APP_URL,
    show_default=True,
    help="Seawall's Slack URL, where the browser view's clicks go (without Socket Mode).",
)
def emulator(port: int, app_url: str) -> None:
    """The Slack emulator alone: run the real stack (serve/worker/run) against it."""
    sys.exit(asyncio.run(run_emulator(port, click.echo, app_url)))


@main.group()
@click.option(
    "--to",
    default=None,
    help="Seawall's base URL (default: http://127.0.0.1:$PORT).",
)
@click.pass_context
def send(ctx: click.Context, to: str | None) -> None:
    """Send what Slack, Alertmanager or Sentry would, signed, and print the answer."""
    settings = SendSettings()
    ctx.obj = (settings, (to or f"http://127.0.0.1:{settings.port}").rstrip("/"))


def _send(work: Callable[[], str]) -> None:
    try:
        click.echo(work())
    except SendError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except httpx.HTTPError as exc:
        click.echo(
            f"Seawall could not be reached ({exc}); is it running? Nothing was sent.", err=True
        )
        sys.exit(1)


@send.command("slash")
@click.argument("command_line")
@click.option("--user", default="U0ALICE", show_default=True, help="Who types it.")
@click.option("--channel", default=None, help="Where (default: SEAWALL_CHANNEL).")
@click.pass_obj
def send_slash_command(
    obj: tuple[SendSettings, str], command_line: str, user: str, channel: str | None
) -> None:
    """A slash command, e.g. "/incident declare DB down"."""
    settings, to = obj
    _send(lambda: send_slash(settings, to, command_line, user, channel))


@send.command("alert")
@click.argument("status", type=click.Choice(["firing", "resolved"]))
@click.argument("alertname")
@click.option("--severity", default="critical", show_default=True)
@click.pass_obj
def send_alert_command(
    obj: tuple[SendSettings, str], status: str, alertname: str, severity: str
) -> None:
    """An Alertmanager notification, e.g. `firing HighErrorRate`."""
    settings, to = obj
    _send(lambda: send_alert(settings, to, status, alertname, severity))


@send.command("sentry")
@click.argument("resource", type=click.Choice(["issue"]))
@click.option(
    "--action",
    type=click.Choice(["created", "resolved", "ignored", "unresolved"]),
    default="created",
    show_default=True,
)
@click.option("--title", default="KeyError: 'cart_id'", show_default=True)
@click.pass_obj
def send_sentry_command(
    obj: tuple[SendSettings, str], resource: str, action: str, title: str
) -> None:
    """A Sentry integration webhook, e.g. `issue --action resolved`."""
    del resource  # only issues for now
    settings, to = obj
    _send(lambda: send_sentry(settings, to, action, title))


@main.command()
@click.argument("incident")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown here instead of printing it.",
)
@click.option("--force", is_flag=True, help="Replace --output if it already exists.")
def postmortem(incident: str, output: Path | None, force: bool) -> None:
    """Draft a Markdown postmortem of INCIDENT (e.g. 20261123-db-down) from its timeline.

    Needs only REDIS_URL (or REDIS_SENTINELS and REDIS_SENTINEL_MASTER)."""
    target = PostmortemSettings().target()
    sys.exit(write_postmortem(target, incident, output, force, click.echo))


if __name__ == "__main__":
    main()
