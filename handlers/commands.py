"""Slash commands. The engine and incident commands arrive with their features; until then
each command answers with what it can do today, so nobody is left guessing."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.cards.common import escape
from handlers.deps import Deps

HELP = {
    "/incident": (
        "*/incident* — incident commands (`declare`, `status`, `quarantine <target>`, "
        "`resolve`, `timeline`) are not available in this version yet. Triage cards for "
        "Alertmanager and Sentry alerts are."
    ),
    "/playbook": (
        "*/playbook* — playbooks (`list`, `<name> [args]`, `status <run>`) are not available "
        "in this version yet."
    ),
    "/oncall": "*/oncall* — the on-call rota (`now`, `take`, `handover @user`) is not available "
    "in this version yet.",
}


def register(bolt: AsyncApp, deps: Deps) -> None:
    del deps  # commands will need the store once they do something

    async def answer(ack: AsyncAck, body: dict[str, Any]) -> None:
        command = body.get("command", "")
        text = (body.get("text") or "").strip()
        reply = HELP.get(command, f"Seawall does not know `{escape(command)}`.")
        if text and text.split()[0] not in ("help", ""):
            reply = (
                f"`{escape(command)} {escape(text[:100])}` is not something I can do yet.\n" + reply
            )
        await ack(text=reply, response_type="ephemeral")

    for command in HELP:
        bolt.command(command)(answer)
