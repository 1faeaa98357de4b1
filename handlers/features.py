"""The one list of features. Each gives its slash subcommands, card buttons, Bolt listeners and
worker jobs (handlers/slack/feature.py); the web app, the worker and the command router all
read them from here, so adding a feature is one line below.

Order matters only for Bolt: the routers for commands and card buttons are registered first
(they carry most traffic and Bolt tries listeners in order on every request)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers.slack import (
    access,
    alerts,
    approvals,
    buttons,
    changes,
    commands,
    incidents,
    paging,
    playbooks,
    sentry,
    slots,
    step_back,
    storm,
    triage,
    unknown,
)
from handlers.slack.feature import Button, Cron, Feature, JobFn, Subcommand

FEATURES: tuple[Feature, ...] = (
    triage.FEATURE,
    alerts.FEATURE,
    sentry.FEATURE,
    incidents.FEATURE,
    approvals.FEATURE,
    step_back.FEATURE,
    playbooks.FEATURE,
    changes.FEATURE,
    slots.FEATURE,
    paging.FEATURE,
    storm.FEATURE,
)


def subcommands() -> list[Subcommand]:
    return [sub for feature in FEATURES for sub in feature.subcommands]


def button_table(deps: Deps) -> dict[str, Button]:
    table: dict[str, Button] = {}
    for feature in FEATURES:
        for action, work in feature.buttons(deps).items():
            if action.value in table:
                raise ValueError(f"two features handle the button {action.value}")
            table[action.value] = work
    return table


async def card_button(deps: Deps, **job: Any) -> None:
    """The worker's job for every card button (handlers/slack/buttons.py enqueues it)."""
    await buttons.run_button(deps, button_table(deps), access.button_refusal, **job)


def job_functions() -> dict[str, JobFn]:
    """Every job the worker runs, by name: fn(deps, **kwargs)."""
    found: dict[str, JobFn] = {"card_button": card_button}
    for feature in FEATURES:
        for name, fn in feature.jobs.items():
            if name in found:
                raise ValueError(f"two features define the job {name}")
            found[name] = fn
    return found


def cron_jobs(deps: Deps) -> list[Cron]:
    """Every job the workers run on a schedule, as the config asks."""
    return [cron for feature in FEATURES for cron in feature.cron(deps)]


def register(bolt: AsyncApp, deps: Deps) -> None:
    """Every Slack listener of every feature, routers first."""
    commands.register(bolt, deps, subcommands(), access.command_refusal)
    buttons.register(bolt, deps, button_table(deps), access.button_refusal)
    for feature in FEATURES:
        feature.register(bolt, deps)
    unknown.register(bolt)  # last: acks whatever no feature took
