"""Emulator configuration: the workspace it pretends to be and the limits it enforces."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


def _default_method_limits() -> dict[str, int]:
    # Slack's published tiers (protocols.md section 3): Tier 3 = 50+/min, Tier 4 = 100+/min.
    # The lower bound of each tier is used so that code tuned here also holds in production.
    return {
        "chat.update": 50,
        "chat.postEphemeral": 100,
        "reactions.add": 50,
        "users.info": 100,
        "views.open": 100,
        "conversations.open": 100,
        "usergroups.users.list": 20,  # Tier 2
        "conversations.create": 20,  # Tier 2
        "conversations.list": 20,  # Tier 2
        "conversations.invite": 50,  # Tier 3
        "conversations.setTopic": 20,  # Tier 2
        "pins.add": 20,  # Tier 2
        "dnd.info": 50,  # Tier 3
        "users.getPresence": 50,  # Tier 3
    }


@dataclass(frozen=True)
class EmulatedUser:
    """A workspace member as `users.info` describes them."""

    name: str
    tz: str = "UTC"
    real_name: str | None = None
    display_name: str | None = None
    tz_label: str | None = None
    is_bot: bool = False
    # Do Not Disturb as dnd.info reports it: the (start, end) epoch seconds of the user's
    # next or current DND window, or None when their DND schedule is off.
    dnd: tuple[float, float] | None = None
    # A manual snooze. Slack shows it to the user alone: dnd.info about someone else leaves
    # it out, so a bot cannot see it (why Slack can never be the only way to page).
    snoozed: bool = False
    presence: str = "active"  # "active" or "away", as users.getPresence reports it

    def __post_init__(self) -> None:
        # Fail when the emulator is configured, not on the first users.info call mid-test.
        ZoneInfo(self.tz)
        if self.presence not in ("active", "away"):
            raise ValueError(f"presence is 'active' or 'away', not {self.presence!r}")


@dataclass
class EmulatorConfig:
    """Everything the emulator needs; clocks are injectable so tests never sleep."""

    bot_token: str = "xoxb-emulator"
    extra_tokens: set[str] = field(default_factory=set)
    # The app-level token (xapp-…) that may open Socket Mode connections; None: no Socket Mode.
    app_token: str | None = None
    team_id: str = "T0SEAWALL"
    team_domain: str = "seawall-emulator"
    team_name: str = "Seawall Emulator"
    bot_user_id: str = "U0SEAWALLBOT"
    bot_id: str = "B0SEAWALLBOT"
    bot_name: str = "seawall"
    app_id: str = "A0SEAWALL"
    # The app's Request URL and signing secret, as on Slack's app config page: where the
    # browser view sends clicks, commands and reactions (over Socket Mode instead while the
    # app holds a connection). None: the browser view can show but not act.
    request_url: str | None = None
    signing_secret: str | None = None
    channels: dict[str, str] = field(default_factory=lambda: {"C0ALERTS": "alerts"})
    users: dict[str, EmulatedUser] = field(default_factory=dict)
    # User groups (S… ids) and their members' user ids, for usergroups.users.list.
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    post_message_rate_per_channel: float = 1.0
    post_message_burst: int = 1
    method_limits_per_minute: dict[str, int] = field(default_factory=_default_method_limits)
    rate_limits_enabled: bool = True
    retry_after_seconds: int | None = None
    trigger_id_ttl_seconds: float = 3.0
    response_url_max_uses: int = 5
    response_url_ttl_seconds: float = 30 * 60
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time

    def accepts_token(self, token: str) -> bool:
        return token == self.bot_token or token in self.extra_tokens
