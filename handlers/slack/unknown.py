"""Interactions and events Seawall does not recognise are acknowledged and logged once.

An old card's button after an upgrade, an action id Slack generated, a shortcut or event
subscribed by mistake: Bolt would answer 404, which Slack shows the clicker as an error (and
counts against event subscriptions). These listeners are registered last, so they only see
what no feature took; each unknown id is logged at WARNING the first time, then quietly.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

log = logging.getLogger("seawall.slack.unknown")

ANYTHING = re.compile(".*")
REMEMBERED_MAX = 1000  # distinct unknown ids logged loudly; beyond that, quietly (bounded)


class UnknownLog:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def note(self, kind: str, ident: str) -> None:
        key = f"{kind}:{ident[:100]}"
        if key in self.seen:
            log.debug("ignored %s %r again", kind, ident[:100])
            return
        if len(self.seen) < REMEMBERED_MAX:
            self.seen.add(key)
        log.warning("ignored a %s Seawall does not know: %r (acknowledged)", kind, ident[:100])


def _action_id(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("action_id") or body.get("action_id") or "?")


def register(bolt: AsyncApp, unknown: UnknownLog | None = None) -> None:
    """The catch-alls; call after every feature registered its listeners."""
    unknown = unknown or UnknownLog()

    async def action(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        unknown.note("button or menu", _action_id(body))

    async def view(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # closes the modal rather than leaving Slack's error in it
        unknown.note("modal", str((body.get("view") or {}).get("callback_id") or "?"))

    async def shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        unknown.note("shortcut", str(body.get("callback_id") or "?"))

    async def options(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack(options=[])
        unknown.note("options request", _action_id(body))

    async def event(body: dict[str, Any]) -> None:
        unknown.note("event", str((body.get("event") or {}).get("type") or "?"))

    bolt.action(ANYTHING)(action)
    bolt.view(ANYTHING)(view)
    bolt.shortcut(ANYTHING)(shortcut)
    bolt.options(ANYTHING)(options)
    bolt.event(ANYTHING)(event)
