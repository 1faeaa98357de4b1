"""The `oncall:` section of SEAWALL_CONFIG: rota, how to reach each person, the escalation
ladder, what pages, heartbeats (DESIGN.md "Paging": the keys and shapes are a contract).

Parsed and checked here, at load, so `seawall check` and every process refuse a typo before
it can leave someone unpaged at 3 a.m. Apprise URLs are checked with Apprise itself (imported
only when a config names one): an URL it cannot read would fail only when it is needed.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.core.times import parse_duration

USER_ID = r"^[UW][A-Z0-9]{2,}$"
USERGROUP_ID = r"^S[A-Z0-9]{2,}$"
SLACK = "slack"
SCHEDULE_PREFIX = "schedule:"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A bare number is ambiguous in YAML (5 = 5 s? 5 min?): say how to write it.
        raise ValueError(f"write durations with a unit, like {value}s or {value}m")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Schedule(BaseModel):
    """A rotation: who holds the pager, changing hands at `handoff` local time."""

    model_config = ConfigDict(extra="forbid")

    timezone: str
    rotation: Literal["daily", "weekly"]
    handoff: str = Field(description='"mon 09:00" (weekly) or "09:00" (daily), local time')
    members: list[Annotated[str, Field(pattern=USER_ID)]] = Field(min_length=1)
    start: date | None = Field(
        default=None,
        description="the local date of members[0]'s first shift (the first handoff on or after "
        "it); absent: counted from 1970-01-05, a Monday",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
        return value

    @model_validator(mode="after")
    def _handoff_fits_rotation(self) -> Schedule:
        self.handoff_parts()  # raises with the reason
        return self

    def handoff_parts(self) -> tuple[int | None, time]:
        """(weekday 0=Monday or None for daily, local time of day)."""
        words = self.handoff.lower().split()
        if self.rotation == "weekly":
            if len(words) != 2 or words[0][:3] not in WEEKDAYS:
                raise ValueError(
                    f"handoff {self.handoff!r}: a weekly rotation hands over on a day, "
                    'e.g. "mon 09:00"'
                )
            return WEEKDAYS.index(words[0][:3]), _clock_time(words[1])
        if len(words) != 1:
            raise ValueError(
                f'handoff {self.handoff!r}: a daily rotation takes a time, e.g. "09:00"'
            )
        return None, _clock_time(words[0])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _clock_time(text: str) -> time:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    if not match:
        raise ValueError(f"{text!r} is not a time of day like 09:00")
    return time(int(match.group(1)), int(match.group(2)))


class NotifyStep(BaseModel):
    """One way to reach a person, `after` the start of their turn: `slack` (a DM with the card
    and Acknowledge) or any Apprise URL (ntfy, Pushover, Telegram, Twilio...)."""

    model_config = ConfigDict(extra="forbid")

    via: str = Field(min_length=1, max_length=2000)
    after: Duration = timedelta(0)

    @property
    def is_slack(self) -> bool:
        return self.via == SLACK

    @field_validator("via")
    @classmethod
    def _slack_or_apprise(cls, value: str) -> str:
        if value == SLACK:
            return value
        check_apprise_url(value)
        return value


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notify: list[NotifyStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _slack_first(self) -> Person:
        slack = [s for s in self.notify if s.is_slack]
        if any(s.after > timedelta(0) for s in slack):
            raise ValueError("the Slack DM is always step 0: write {via: slack, after: 0s}")
        if not slack:
            # DESIGN.md: Slack DM is always step 0, so a person's list may leave it out.
            self.notify.insert(0, NotifyStep(via=SLACK))
        self.notify.sort(key=lambda s: (s.after, not s.is_slack))
        return self


def default_person() -> Person:
    return Person(notify=[NotifyStep(via=SLACK)])


class Level(BaseModel):
    """One rung of the ladder: who is paged, and how long they have to acknowledge."""

    model_config = ConfigDict(extra="forbid")

    notify: list[str] = Field(min_length=1)
    ack_timeout: Duration

    @field_validator("notify", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("notify")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for target in value:
            if target.startswith(SCHEDULE_PREFIX):
                continue
            if not (re.fullmatch(USER_ID, target) or re.fullmatch(USERGROUP_ID, target)):
                raise ValueError(
                    f"{target!r} is not schedule:<name>, a user id (U…) or a user group id (S…)"
                )
        return value

    @field_validator("ack_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("ack_timeout must be at least 1s")
        return value


class SentryPageOn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: list[str] = Field(default_factory=lambda: ["fatal"])


class PageOn(BaseModel):
    """What pages; everything else only posts a card."""

    model_config = ConfigDict(extra="forbid")

    alertmanager: dict[str, list[str]] = Field(
        default_factory=lambda: {"severity": ["critical", "page"]},
        description="label -> values; a firing alert whose labels match every entry pages",
    )
    sentry: SentryPageOn = Field(default_factory=SentryPageOn)


class Heartbeat(BaseModel):
    """A dead-man's switch: an always-firing alert (e.g. Watchdog) that must keep arriving."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=NAME)]
    alertname: str = Field(min_length=1, max_length=200)
    timeout: Duration

    @field_validator("timeout")
    @classmethod
    def _long_enough(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("a heartbeat timeout under 10s would page on ordinary delays")
        return value


class Oncall(BaseModel):
    """`oncall:` as a whole; see DESIGN.md "Paging" and docs/paging.md."""

    model_config = ConfigDict(extra="forbid")

    schedules: dict[Annotated[str, Field(pattern=NAME)], Schedule] = Field(default_factory=dict)
    people: dict[Annotated[str, Field(pattern=USER_ID)], Person] = Field(default_factory=dict)
    escalation: list[Level] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)
    page_on: PageOn = Field(default_factory=PageOn)
    heartbeats: list[Heartbeat] = Field(default_factory=list)
    storm_window: Duration = Field(
        default=timedelta(minutes=2),
        description="pages raised for the same person within this window are one page",
    )
    flap_window: Duration = Field(
        default=timedelta(minutes=30),
        description="an alert that paged does not page again within this window",
    )

    @model_validator(mode="after")
    def _references_exist(self) -> Oncall:
        for i, level in enumerate(self.escalation, start=1):
            for target in level.notify:
                name = target.removeprefix(SCHEDULE_PREFIX)
                if target.startswith(SCHEDULE_PREFIX) and name not in self.schedules:
                    raise ValueError(
                        f"escalation level {i} names {target!r}, but no schedule {name!r} is "
                        "defined under oncall.schedules"
                    )
        names = [h.name for h in self.heartbeats]
        if len(set(names)) != len(names):
            raise ValueError("two heartbeats share a name")
        return self

    def person(self, user_id: str) -> Person:
        return self.people.get(user_id) or default_person()

    def has_push_steps(self) -> bool:
        """Whether any push (non-Slack) step is configured: those carry signed ack links."""
        return any(not s.is_slack for p in self.people.values() for s in p.notify)

    def heartbeat_for(self, alertname: str) -> Heartbeat | None:
        return next((h for h in self.heartbeats if h.alertname == alertname), None)


NTFY_SCHEMES = ("ntfy", "ntfys")


def check_apprise_url(url: str) -> None:
    """Raise ValueError (without echoing the URL's secrets) when Apprise cannot use `url`, or
    when it would go to the public ntfy.sh without saying so."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        raise ValueError('via: an Apprise URL like "ntfy://host/topic", or "slack"')
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValueError(f"via: Apprise cannot use this {scheme}:// URL (check its parts)")
    if scheme in NTFY_SCHEMES:
        _check_ntfy(url, plugin)


def _check_ntfy(url: str, plugin: Any) -> None:
    query = {k.lower(): v for k, v in parse_qs(urlsplit(url).query).items()}
    if "actions" in query:
        raise ValueError(
            "via: leave `actions=` out of ntfy URLs; Seawall adds its own Acknowledge action"
        )
    if getattr(plugin, "mode", None) == "cloud" and query.get("mode") != ["cloud"]:
        raise ValueError(
            "via: this ntfy URL has no server host, so Apprise would publish to the public "
            "ntfy.sh, where anyone who guesses the topic reads your alerts. Name your server "
            "(ntfy://ntfy.example.com/topic), or add ?mode=cloud to use ntfy.sh on purpose."
        )


# Schemes whose host part is a server name; in others (pover://user@token) it is a secret.
HOST_SCHEMES = frozenset({"ntfy", "ntfys", "gotify", "gotifys", "json", "jsons"})


def url_label(url: str) -> str:
    """An URL as logs and cards may show it: scheme, and the host where it names a server."""
    if url == SLACK:
        return "Slack DM"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in HOST_SCHEMES and parts.hostname:
        return f"{scheme}://{parts.hostname}"
    return f"{scheme}://…"
