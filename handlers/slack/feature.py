"""What a feature gives the composition root: its slash subcommands, its card buttons, its
Bolt listeners and its worker jobs (handlers/features.py is the one list of features).

The types live here, apart from the routers that use them, so a feature module and a router
never import each other."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.cards.common import ActionId, CardMessage
from bot.deps import Deps
from bot.models.card import TriageCard


@dataclass(frozen=True)
class Invocation:
    """A slash command as received, after the subcommand word was taken off."""

    command: str
    sub: str
    text: str  # everything after the subcommand, raw (untrusted)
    user_id: str
    channel_id: str
    trigger_id: str | None = None

    def words(self) -> list[str]:
        """Shell-like split (quotes group words); raises ValueError on unbalanced quotes."""
        return shlex.split(self.text)


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    in_channel: bool = False

    @property
    def response_type(self) -> str:
        return "in_channel" if self.in_channel else "ephemeral"


Handler = Callable[[Deps, Invocation], Awaitable[Reply]]


# The access action (bot/access) a command or button needs, or None when anyone may: fixed,
# or decided from the invocation / the card (e.g. `playbook.<name>` of the run it acts on).
CommandAction = str | Callable[[Invocation], str | None] | None
ButtonAction = str | Callable[[TriageCard], str | None] | None


@dataclass(frozen=True)
class Subcommand:
    command: str
    name: str  # "" matches "/playbook <anything not registered>" (e.g. a playbook name)
    usage: str
    summary: str
    handler: Handler = field(compare=False)
    action: CommandAction = field(default=None, compare=False)

    def action_for(self, invocation: Invocation) -> str | None:
        return self.action(invocation) if callable(self.action) else self.action


# What a card button does: (card id, the clicking user as Slack sent it) -> what to show them:
# a sentence, or a message with blocks (a question with its own button).
CardWork = Callable[[str, dict[str, Any]], Awaitable[str | CardMessage]]


@dataclass(frozen=True)
class Confirming:
    """A button that confirms what its clicker was shown: its work also gets the digest the
    button carries (CardRef.d, None if missing) and decides whether that still holds."""

    work: Callable[[str, str | None, dict[str, Any]], Awaitable[str | CardMessage]]


ButtonWork = CardWork | Confirming


@dataclass(frozen=True)
class Button:
    """A card button: what it does (run by the worker) and the access action it needs, checked
    in the web process before it is queued and again in the worker before it runs."""

    work: ButtonWork
    action: ButtonAction = None

    def action_for(self, card: TriageCard | None) -> str | None:
        if callable(self.action):
            return self.action(card) if card is not None else None
        return self.action


# A worker job: (deps, **kwargs).
JobFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Cron:
    """A job (one of the feature's `jobs`) the workers run every `every_s` seconds, once per
    tick whatever the number of workers (a saq cron job with a unique key)."""

    job: str
    every_s: float


def no_cron(deps: Deps) -> Sequence[Cron]:
    del deps
    return ()


def no_buttons(deps: Deps) -> Mapping[ActionId, Button]:
    del deps
    return {}


def no_listeners(bolt: AsyncApp, deps: Deps) -> None:
    del bolt, deps


@dataclass(frozen=True)
class Feature:
    """One feature's ways in. `buttons` run in the worker (handlers/slack/buttons.py);
    `register` adds any other Bolt listener (events, modals, buttons that need a trigger_id);
    `cron` says which of its jobs run on a schedule (read from the config when a worker
    starts)."""

    name: str
    subcommands: Sequence[Subcommand] = ()
    buttons: Callable[[Deps], Mapping[ActionId, Button]] = no_buttons
    jobs: Mapping[str, JobFn] = field(default_factory=dict)
    register: Callable[[AsyncApp, Deps], None] = no_listeners
    cron: Callable[[Deps], Sequence[Cron]] = no_cron
