"""What the emulator receives, shown in a terminal as it arrives: channel cards, thread replies,
DMs (step-back prompts, pages) and ephemerals (slash-command answers, refusals).

Used by `seawall sandbox` and `seawall emulator`, so a newcomer sees everything Slack would
show them without opening Slack.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from bot.emulator import EmulatedMessage, SlackEmulator
from bot.emulator.render import render_message

Echo = Callable[[str], None]
POLL_S = 0.2  # how often new ephemerals are looked for (the emulator keeps them in a list)
TITLES = {"posted": "new message", "updated": "card updated", "reply": "thread reply"}


class TerminalView:
    def __init__(self, emulator: SlackEmulator, echo: Echo, *, color: bool | None = None) -> None:
        self.emulator = emulator
        self.echo = echo
        self.color = sys.stdout.isatty() if color is None else color
        self._seen_ephemerals = 0
        emulator.on_message = self.show_message

    def where(self, channel: str) -> str:
        """`#alerts`, or `DM with @alice` for a direct message channel."""
        if channel.startswith("D"):
            for user_id, user in self.emulator.config.users.items():
                if self.emulator.dm_channel(user_id) == channel:
                    return f"DM with @{user.name}"
            return f"DM {channel}"
        return f"#{self.emulator.channel_name(channel)}"

    def render(self, message: EmulatedMessage | dict[str, Any]) -> str:
        """The message as text, people and channels the emulator knows shown by name."""
        return render_message(
            message,
            color=self.color,
            users=self.emulator.user_names(),
            channels=self.emulator.channel_names(),
        )

    def show_message(self, channel: str, message: EmulatedMessage, event: str) -> None:
        title = "new card" if event == "posted" and message.blocks else TITLES.get(event, event)
        self.echo(f"\n── {self.where(channel)} · {title} · ts {message.ts} " + "─" * 20)
        self.echo(self.render(message))

    def show_new_ephemerals(self) -> None:
        found = self.emulator.ephemerals
        for ephemeral in found[self._seen_ephemerals :]:
            who = self.emulator.config.users.get(ephemeral.user)
            name = f"@{who.name}" if who else ephemeral.user
            self.echo(f"\n── only {name} sees, in {self.where(ephemeral.channel)} " + "─" * 20)
            self.echo(self.render({"blocks": ephemeral.blocks, "text": ephemeral.text}))
        self._seen_ephemerals = len(found)

    async def follow_ephemerals(self) -> None:
        """Run until cancelled, printing ephemerals as they arrive."""
        while True:
            self.show_new_ephemerals()
            await asyncio.sleep(POLL_S)
