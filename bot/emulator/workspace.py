"""The emulated workspace's mutable state: channels, messages, triggers, response_urls.

Not thread-safe by itself: `SlackEmulator` holds its lock around every use.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.config import EmulatorConfig
from bot.emulator.models import EmulatedMessage, EphemeralMessage, ResponseUrl


@dataclass(frozen=True)
class Notification:
    """A change to report through `on_message` once the lock is released."""

    channel: str
    message: EmulatedMessage
    event: str


@dataclass
class Workspace:
    config: EmulatorConfig
    channels: dict[str, str] = field(default_factory=dict)
    dm_by_user: dict[str, str] = field(default_factory=dict)
    top_level: dict[str, list[EmulatedMessage]] = field(default_factory=dict)
    index: dict[tuple[str, str], EmulatedMessage] = field(default_factory=dict)
    ephemerals: list[EphemeralMessage] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    view_triggers: dict[str, str] = field(default_factory=dict)  # view id -> its trigger_id
    triggers: dict[str, float] = field(default_factory=dict)
    used_triggers: set[str] = field(default_factory=set)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    channel_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    pins: dict[str, list[str]] = field(default_factory=dict)
    last_ts_us: int = 0
    counter: int = 0

    def __post_init__(self) -> None:
        self.channels = dict(self.config.channels)

    def next_ts(self) -> str:
        """A message ts: wall-clock microseconds, strictly increasing even within one tick."""
        now_us = int(self.config.wall_clock() * 1_000_000)
        self.last_ts_us = max(now_us, self.last_ts_us + 1)
        seconds, micros = divmod(self.last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:08d}"

    def known_user(self, user_id: str) -> bool:
        return user_id in self.config.users or user_id == self.config.bot_user_id

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM with a user, created on first use like conversations.open does."""
        channel = self.dm_by_user.get(user_id)
        if channel is None:
            channel = "D" + user_id.removeprefix("U")
            self.dm_by_user[user_id] = channel
            self.channels[channel] = user_id
        return channel

    def resolve_channel(self, ref: str | None) -> str | None:
        """A channel id from an id, a "#name", or a user id (which means the DM with them)."""
        if not ref:
            return None
        if ref in self.channels:
            return ref
        name = ref.removeprefix("#")
        for channel_id, channel_name in self.config.channels.items():
            if channel_name == name:
                return channel_id
        if ref in self.config.users:
            return self.dm_channel(ref)
        return None

    def members_of(self, channel_id: str) -> set[str]:
        """Who is in a channel. Configured channels start with just the bot in them (it may
        post there); channels made with conversations.create start with their creator."""
        return self.members.setdefault(channel_id, {self.config.bot_user_id})

    def channel_name(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)

    def find(self, channel: str, ts: str) -> EmulatedMessage | None:
        return self.index.get((channel, ts))

    def add(self, message: EmulatedMessage) -> Notification:
        """Store a new message (top level or reply) and say what happened."""
        self.index[(message.channel, message.ts)] = message
        if message.thread_ts is None:
            self.top_level.setdefault(message.channel, []).append(message)
            return Notification(message.channel, message, "posted")
        parent = self.index[(message.channel, message.thread_ts)]
        parent.replies.append(message)
        return Notification(message.channel, message, "reply")

    def post_as_person(
        self, channel: str, user: str, text: str, thread_ts: str | None
    ) -> Notification:
        """A person's message; KeyError when the channel or the thread is unknown."""
        channel_id = self.resolve_channel(channel)
        if channel_id is None:
            raise KeyError(f"unknown channel {channel!r}")
        parent = self.thread_parent(channel_id, thread_ts) if thread_ts else None
        if thread_ts and parent is None:
            raise KeyError(f"no message {thread_ts} in {channel_id}")
        message = EmulatedMessage(
            channel=channel_id,
            ts=self.next_ts(),
            text=text,
            user=user,
            thread_ts=parent.ts if parent else None,
        )
        return self.add(message)

    def set_reaction(self, channel: str, ts: str, name: str, user: str, *, present: bool) -> bool:
        """Add or remove a person's reaction; False when there is no such message."""
        message = self.find(channel, ts)
        if message is None:
            return False
        users = message.reactions.setdefault(name, [])
        if present and user not in users:
            users.append(user)
        elif not present and user in users:
            users.remove(user)
        if not users:
            del message.reactions[name]
        return True

    def thread_parent(self, channel: str, thread_ts: str) -> EmulatedMessage | None:
        """The top-level message a reply should attach to; a reply's ts means its parent."""
        target = self.find(channel, thread_ts)
        if target is None:
            return None
        if target.thread_ts is not None:
            return self.find(channel, target.thread_ts)
        return target

    def delete(self, message: EmulatedMessage) -> Notification:
        self.index.pop((message.channel, message.ts), None)
        if message.thread_ts is None:
            self.top_level[message.channel].remove(message)
            for reply in message.replies:
                self.index.pop((reply.channel, reply.ts), None)
        else:
            parent = self.index.get((message.channel, message.thread_ts))
            if parent is not None:
                parent.replies.remove(message)
        return Notification(message.channel, message, "deleted")

    def issue_trigger_id(self) -> str:
        trigger_id = f"{self.next_id('')}.{self.config.team_id}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = self.config.clock()
        return trigger_id

    def exchange_trigger_id(self, trigger_id: str) -> str | None:
        """Use a trigger_id up; returns the Slack error when it cannot be used."""
        issued_at = self.triggers.get(trigger_id)
        if issued_at is None:
            return "invalid_trigger_id"
        if trigger_id in self.used_triggers:
            return "exchanged_trigger_id"
        if self.config.clock() - issued_at >= self.config.trigger_id_ttl_seconds:
            return "expired_trigger_id"
        self.used_triggers.add(trigger_id)
        return None

    def issue_response_url(self, channel: str, user: str, message_ts: str | None) -> str:
        """Register a response_url and return its id (the path part the emulator serves)."""
        url_id = secrets.token_urlsafe(12)
        self.response_urls[url_id] = ResponseUrl(channel, user, message_ts, self.config.clock())
        return url_id
