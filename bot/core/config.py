"""Settings from the environment (the contract in DESIGN.md) plus the optional YAML file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import ConfigError
from bot.core.paging_config import Oncall

SLACK_CHANNEL_ID = r"^[CGD][A-Z0-9]{2,}$"


class ChannelRoute(BaseModel):
    """Send cards whose labels (or Sentry project) match to `channel`. First match wins."""

    model_config = ConfigDict(extra="forbid")

    channel: Annotated[str, Field(pattern=SLACK_CHANNEL_ID)]
    match: dict[str, str] = Field(default_factory=dict, description="label == value, all must hold")
    match_re: dict[str, str] = Field(
        default_factory=dict, description="label matches the regex (anchored), all must hold"
    )
    sentry_projects: list[str] = Field(default_factory=list, description="Sentry project slugs")

    @field_validator("match_re")
    @classmethod
    def _regexes_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"match_re.{label}: invalid regex {pattern!r}: {exc}") from exc
        return value

    def matches_labels(self, labels: Mapping[str, str]) -> bool:
        if not self.match and not self.match_re:
            return False
        if any(labels.get(k) != v for k, v in self.match.items()):
            return False
        return all(re.fullmatch(p, labels.get(k, "")) for k, p in self.match_re.items())


class Approvers(BaseModel):
    """Who may approve four-eyes steps and change requests (never the requester)."""

    model_config = ConfigDict(extra="forbid")

    users: list[Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]] = Field(default_factory=list)
    usergroups: list[Annotated[str, Field(pattern=r"^S[A-Z0-9]{2,}$")]] = Field(
        default_factory=list
    )
    reaction: str = Field(default="white_check_mark", pattern=r"^[a-z0-9_+'-]{1,64}$")
    expire_minutes: int = Field(default=30, gt=0, le=24 * 60)
    change_checklist: list[str] = Field(
        default_factory=list, description="items to tick on every /incident change request"
    )


class StepBack(BaseModel):
    """The pause before a destructive step."""

    model_config = ConfigDict(extra="forbid")

    confirm_delay_seconds: float = Field(default=10.0, ge=0, le=300)
    expire_minutes: float = Field(
        default=15.0, gt=0, le=24 * 60, description="a prompt nobody confirmed ends then"
    )
    late_night_from_hour: int = Field(default=22, ge=0, le=23)
    late_night_until_hour: int = Field(default=7, ge=0, le=23)


USER_ID = r"^[UW][A-Z0-9]{2,}$"
USERGROUP_ID = r"^S[A-Z0-9]{2,}$"
EVERYONE = "everyone"
ROLE_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
# What `access.allow` may name: each is checked where it happens (bot/access). A key that is
# not one of these is a typo that would silently leave the action open, so it is an error.
ACCESS_ACTIONS = frozenset(
    {
        "incident.declare",  # /incident declare, and Declare incident on a card
        "incident.resolve",  # /incident resolve
        "incident.change",  # /incident change: ask for a four-eyes approval
        "alert.ack",  # Acknowledge on a triage card
        "alert.silence",  # Silence on an Alertmanager card
        "sentry.resolve",  # Resolve in Sentry
        "sentry.ignore",  # Ignore in Sentry
        "approval.approve",  # approve (button or reaction) or tick a checklist
        "oncall.take",  # /oncall take: become the on-call person for a while
        "oncall.handover",  # /oncall handover @user: give the pager to someone else
        "oncall.pause",  # /oncall pause|resume: hold pages during maintenance
    }
)
ACCESS_KEY = r"^(?:[a-z]+\.\*|playbook\.[a-z][a-z0-9-]{1,40})$"  # alert.*, playbook.<name>


class Role(BaseModel):
    """People who hold a role: Slack users and members of Slack user groups."""

    model_config = ConfigDict(extra="forbid")

    users: list[Annotated[str, Field(pattern=USER_ID)]] = Field(default_factory=list)
    usergroups: list[Annotated[str, Field(pattern=USERGROUP_ID)]] = Field(default_factory=list)


class Access(BaseModel):
    """Who may do what (DESIGN.md "Access"). An action not listed is open to everyone."""

    model_config = ConfigDict(extra="forbid")

    roles: dict[Annotated[str, Field(pattern=ROLE_NAME)], Role] = Field(default_factory=dict)
    allow: dict[str, list[str]] = Field(default_factory=dict)
    channels: list[Annotated[str, Field(pattern=SLACK_CHANNEL_ID)]] = Field(
        default_factory=list,
        description="slash commands that change things only from these channels (and "
        "incident channels)",
    )

    @field_validator("roles")
    @classmethod
    def _everyone_is_reserved(cls, value: dict[str, Role]) -> dict[str, Role]:
        if EVERYONE in value:
            raise ValueError(f"{EVERYONE!r} is built in (the whole workspace); pick another name")
        return value

    @model_validator(mode="after")
    def _allow_names_known_actions_and_roles(self) -> Access:
        for action, roles in self.allow.items():
            if action not in ACCESS_ACTIONS and not re.fullmatch(ACCESS_KEY, action):
                known = ", ".join(sorted(ACCESS_ACTIONS))
                raise ValueError(
                    f"allow: {action!r} is not an action Seawall knows ({known}, "
                    "playbook.<name>, or a family like alert.*)"
                )
            for role in roles:
                if role != EVERYONE and role not in self.roles:
                    raise ValueError(
                        f"allow.{action}: role {role!r} is not defined under access.roles"
                    )
        return self


class FileConfig(BaseModel):
    """The YAML file named by SEAWALL_CONFIG. Unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid")

    routes: list[ChannelRoute] = Field(default_factory=list)
    approvers: Approvers = Field(default_factory=Approvers)
    step_back: StepBack = Field(default_factory=StepBack)
    access: Access | None = Field(
        default=None, description="roles and who may do what; absent: everyone may"
    )
    oncall: Oncall | None = Field(
        default=None,
        description="on-call rota, escalation and what pages (DESIGN.md Paging); absent: "
        "nobody is paged, alerts only post cards",
    )
    playbook_modules: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")]] = Field(
        default_factory=list,
        description="extra Python modules that define playbooks (beside playbooks/catalog/)",
    )
    playbooks: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-playbook settings (targets such as DSNs, HAProxy sockets), by name",
    )

    def channel_for_labels(self, labels: Mapping[str, str], default: str) -> str:
        for route in self.routes:
            if route.matches_labels(labels):
                return route.channel
        return default

    def channel_for_sentry_project(self, project_slug: str | None, default: str) -> str:
        for route in self.routes:
            if project_slug and project_slug in route.sentry_projects:
                return route.channel
        return default


class Settings(BaseSettings):
    """Environment variables. Names are a contract (DESIGN.md); README's table mirrors this."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: str = Field(description="Bot token (xoxb-…) used for every Web API call.")
    slack_signing_secret: str = Field(description="Verifies that requests come from Slack.")
    slack_app_token: str | None = Field(
        default=None,
        description="App-level token (xapp-…) for Socket Mode: reserved, not used yet (HTTP only).",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Slack Web API base URL (the emulator's in tests).",
    )
    seawall_channel: Annotated[str, Field(pattern=SLACK_CHANNEL_ID)] = Field(
        description="Default channel ID for triage cards (routes in SEAWALL_CONFIG may override)."
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis, the system of record."
    )
    port: int = Field(default=3000, ge=1, le=65535, description="HTTP port of `seawall serve`.")
    alertmanager_webhook_token: str = Field(
        description="Bearer token Alertmanager must send on POST /webhooks/alertmanager."
    )
    alertmanager_url: str | None = Field(
        default=None, description="Alertmanager base URL, for the Silence button (API v2)."
    )
    sentry_client_secret: str | None = Field(
        default=None,
        description="Verifies Sentry-Hook-Signature; Sentry webhooks are refused without it.",
    )
    sentry_api_token: str | None = Field(
        default=None,
        description="Sentry API token (scope event:write) for Resolve / Ignore buttons.",
    )
    sentry_url: str = Field(
        default="https://sentry.io", description="Sentry base URL for API calls."
    )
    sentry_org: str | None = Field(
        default=None, description="Sentry organisation slug for API calls."
    )
    sentry_dsn: str | None = Field(
        default=None, description="Where Seawall reports its own errors."
    )
    seawall_config: Path | None = Field(
        default=None, description="Path to the YAML file: channel routes (more sections later)."
    )
    seawall_public_url: str | None = Field(
        default=None,
        description="Seawall's public base URL, for Acknowledge links in pushes (ntfy...).",
    )
    seawall_ack_secret: str | None = Field(
        default=None,
        min_length=32,
        description="Signs push Acknowledge links (HMAC); 32+ random characters.",
    )
    seawall_heartbeat_url: str | None = Field(
        default=None,
        description="Pinged every minute by the worker (healthchecks.io style dead-man's switch).",
    )
    seawall_post_interval: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between chat.postMessage calls per channel (Slack allows about 1/s).",
    )

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk appends the method name to base_url; without the slash it builds a wrong URL.
        return value if value.endswith("/") else value + "/"

    @field_validator("seawall_public_url", "seawall_heartbeat_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/")

    @field_validator("sentry_url", "alertmanager_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value


REQUIRED_HINTS = {
    "slack_bot_token": "the bot token from your Slack app's OAuth page (xoxb-…)",
    "slack_signing_secret": "from your Slack app's Basic Information page",
    "seawall_channel": "the channel ID (e.g. C0123ABCD) where cards go by default",
    "alertmanager_webhook_token": (
        "any long random string; put the same in Alertmanager's http_config"
    ),
}


def paging_problems(settings: Settings, config: FileConfig) -> list[str]:
    """Settings that `oncall:` needs: pushes carry a signed Acknowledge link to Seawall, so
    SEAWALL_PUBLIC_URL and SEAWALL_ACK_SECRET are required once a push step is configured."""
    if config.oncall is None or not config.oncall.has_push_steps():
        return []
    problems = []
    if not settings.seawall_public_url:
        problems.append(
            "SEAWALL_PUBLIC_URL is not set: oncall.people has push steps, whose Acknowledge "
            "link must point at Seawall (e.g. https://seawall.example.com)"
        )
    if not settings.seawall_ack_secret:
        problems.append(
            "SEAWALL_ACK_SECRET is not set: it signs the Acknowledge links in pushes; "
            "use 32+ random characters (e.g. `openssl rand -hex 32`)"
        )
    return problems


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings, turning every problem into one plain line (raises ConfigError)."""
    try:
        if env is None:
            return Settings()
        return Settings.model_validate({k.lower(): v for k, v in env.items()})
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()]) from exc


def _describe(err: Any) -> str:
    field = str(err["loc"][0]) if err["loc"] else "?"
    name = field.upper()
    if err["type"] == "missing":
        hint = REQUIRED_HINTS.get(field, "")
        return f"{name} is not set" + (f": {hint}" if hint else "")
    return f"{name} is invalid: {err['msg']}"


def load_file_config(path: Path | None) -> FileConfig:
    """Read SEAWALL_CONFIG (an absent path means an empty config)."""
    if path is None:
        return FileConfig()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError([f"SEAWALL_CONFIG {path}: cannot read it ({exc.strerror})"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"SEAWALL_CONFIG {path}: not valid YAML ({exc})"]) from exc
    try:
        return FileConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"SEAWALL_CONFIG {path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors()
            ]
        ) from exc
