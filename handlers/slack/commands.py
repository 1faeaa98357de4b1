"""Slash commands: route `/command sub args` to the feature that owns it, answer in the ack.

Each feature lists its Subcommands (handlers/features.py); this module only routes, so a new
subcommand never touches it. Unknown input gets the command's help, generated from what
is registered, as an ephemeral message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.cards.common import escape
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from handlers.slack.after_ack import after_ack, within_ack_budget
from handlers.slack.failures import report_failure
from handlers.slack.feature import Invocation, Reply, Subcommand

log = logging.getLogger("seawall.commands")

COMMANDS = {
    "/incident": "Incidents: declare, follow, contain and resolve them.",
    "/playbook": "Playbooks: run a known procedure step by step, with safety gates.",
    "/oncall": "The on-call rota.",
}
STORE_DOWN = "Seawall cannot reach its database right now; nothing was done. Try again shortly."
STILL_WORKING = "Working on it; the answer will follow here in a moment."


def help_text(command: str, subcommands: list[Subcommand]) -> str:
    lines = [f"*{command}* — {COMMANDS.get(command, '')}"]
    for sub in subcommands:
        if sub.command == command:
            lines.append(f"• `{command} {sub.usage}` — {sub.summary}")
    if len(lines) == 1:
        lines.append("Nothing is available under this command in this version yet.")
    return "\n".join(lines)


def route(
    subcommands: list[Subcommand], command: str, text: str
) -> tuple[Subcommand | None, str, str]:
    """(the subcommand, its name, the rest of the text); None when help is the answer."""
    word, _, rest = text.strip().partition(" ")
    name = word.lower()
    for sub in subcommands:
        if sub.command == command and sub.name and sub.name == name:
            return sub, name, rest.strip()
    if name in ("", "help"):
        return None, name, rest
    fallback = next((s for s in subcommands if s.command == command and not s.name), None)
    return fallback, name, text.strip()


# Says why this person may not run this subcommand here (None: they may). The composition
# root gives it (handlers/access.py), so routing knows nothing of roles or incidents.
CommandGuard = Callable[[Deps, Subcommand, Invocation], Awaitable[str | None]]


def register(
    bolt: AsyncApp, deps: Deps, subcommands: list[Subcommand], guard: CommandGuard
) -> None:
    """One listener for every command in COMMANDS, routing to `subcommands`; `guard` is asked
    before any handler runs."""

    async def answer(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        command = str(body.get("command", ""))
        sub, name, rest = route(subcommands, command, str(body.get("text") or ""))
        if sub is None:
            await ack_with(ack, unknown_or_help(command, name, subcommands))
            return
        invocation = Invocation(
            command=command,
            sub=name,
            text=rest,
            user_id=str(body.get("user_id", "")),
            channel_id=str(body.get("channel_id", "")),
            trigger_id=body.get("trigger_id"),
        )
        # Handlers only touch Redis and the job queue, so the answer normally rides in the
        # ack itself (no second request to Slack). If Redis is slow, Slack still gets its ack
        # in time and the answer follows through response_url.
        handling = await within_ack_budget(handle(deps, sub, invocation, guard))
        if handling.done():
            await ack_with(ack, handling.result())
            return
        await ack(text=STILL_WORKING, response_type="ephemeral")
        after_ack(answer_late(handling, respond), f"late answer to {command} {name}")

    # One listener for all commands: Bolt runs every listener's matcher, in order, on
    # every request until one matches.
    bolt.command(re.compile("^(?:" + "|".join(re.escape(c) for c in COMMANDS) + ")$"))(answer)


def unknown_or_help(command: str, name: str, subcommands: list[Subcommand]) -> Reply:
    reply = Reply(help_text(command, subcommands))
    if name in ("", "help"):
        return reply
    unknown = f"`{escape(command)} {escape(name[:60])}` is not a command I know.\n"
    return Reply(unknown + reply.text)


async def handle(deps: Deps, sub: Subcommand, invocation: Invocation, guard: CommandGuard) -> Reply:
    try:
        refusal = await guard(deps, sub, invocation)
        if refusal is not None:
            return Reply(refusal)
        return await sub.handler(deps, invocation)
    except StoreUnavailable:
        return Reply(STORE_DOWN)


async def ack_with(ack: AsyncAck, reply: Reply) -> None:
    await ack(text=reply.text, blocks=reply.blocks, response_type=reply.response_type)


async def answer_late(handling: asyncio.Future[Reply], respond: AsyncRespond) -> None:
    try:
        reply = await handling
    except Exception as exc:
        reply = Reply(report_failure(exc, "a slash command"))
    await respond(text=reply.text, blocks=reply.blocks, response_type=reply.response_type)
