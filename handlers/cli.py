"""The `seawall` command: serve, worker, sandbox, check, postmortem."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import click
import uvicorn

from bot.core.config import Settings, load_settings
from bot.core.errors import ConfigError
from handlers.app import create_app
from handlers.checks import run_checks
from handlers.postmortem import PostmortemSettings, write_postmortem
from handlers.sandbox import run_sandbox
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


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per outbound request drowns what matters at 3 a.m.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


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
    settings = _settings_or_exit()
    try:
        app = create_app(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)
    uvicorn.run(app, host=host, port=settings.port, log_level="info", access_log=False)


@main.command()
def worker() -> None:
    """Worker process: posts and updates cards in Slack (any number may run)."""
    settings = _settings_or_exit()
    try:
        asyncio.run(run_worker(settings, _stop_on_signals))
    except ConfigError as exc:
        click.echo("Seawall cannot start; fix these settings first:", err=True)
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

    Needs only REDIS_URL."""
    redis_url = PostmortemSettings().redis_url
    sys.exit(write_postmortem(redis_url, incident, output, force, click.echo))


if __name__ == "__main__":
    main()
