"""Who is looking at the page: Slack renders names, channels and dates for each reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Viewer:
    """The emulated person the page is shown to, and the names their Slack would show."""

    user_id: str
    now: float
    tz: ZoneInfo = UTC
    users: Mapping[str, str] = field(default_factory=dict)  # user id -> name
    channels: Mapping[str, str] = field(default_factory=dict)  # channel id -> name
    usergroups: Mapping[str, str] = field(default_factory=dict)  # S... id -> handle

    def user_name(self, user_id: str) -> str:
        return self.users.get(user_id, user_id)

    def channel_name(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)

    def local(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, self.tz)

    def page_url(self, channel: str | None = None, thread: str | None = None) -> str:
        """This page for the same person: a channel, or a thread in it."""
        query = {"as": self.user_id}
        if channel:
            query["c"] = channel
        if thread:
            query["t"] = thread
        return "/?" + urlencode(query)
