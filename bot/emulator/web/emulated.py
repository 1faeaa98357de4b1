"""What the browser view uses of the emulator (app.py's SlackEmulator), named here so that the
view's modules do not import app.py, which serves them."""

from __future__ import annotations

from typing import Protocol

from bot.emulator.models import EmulatedMessage, EphemeralMessage
from bot.emulator.sender import InProcessEmulator


class Browsable(InProcessEmulator, Protocol):
    @property
    def version(self) -> int:
        """Grows with every change to the emulator's state (what open pages poll)."""
        ...

    @property
    def ephemerals(self) -> list[EphemeralMessage]: ...
    @property
    def view_triggers(self) -> dict[str, str]: ...
    def messages(self, channel_id: str) -> list[EmulatedMessage]: ...
    def channel_names(self) -> dict[str, str]: ...
    def user_names(self) -> dict[str, str]: ...
    def dm_channel(self, user_id: str) -> str: ...
    def post_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> EmulatedMessage: ...
