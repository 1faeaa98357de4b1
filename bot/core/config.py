"""Settings from the environment (the contract in DESIGN.md) plus the optional YAML file."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Protocol

import re2
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

from bot.core.access_config import SLACK_CHANNEL_ID, Access
from bot.core.errors import ConfigError
from bot.core.paging_config import Oncall
from bot.core.retention import Retention
from bot.core.storm_config import StormConfig


class _Pattern(Protocol):
    def fullmatch(self, text: str) -> object | None: ...


class RoutePatternError(ValueError):
    """RE2 cannot compile the pattern; the message is RE2's reason."""


# Patterns come from SEAWALL_CONFIG only, so this cache stays as small as the config. Cached
# here rather than kept on the route: a compiled pattern on the model would break equality.
@functools.lru_cache(maxsize=256)
def route_pattern(pattern: str) -> _Pattern:
    """`pattern` compiled with RE2, whose matching time is linear in the label's length
    (Python's re backtracks: `(a+)+$` against a long label stalls the event loop on every
    delivery). RE2 refuses what it cannot match that way: backreferences and lookaround."""
    options = re2.Options()
    options.log_errors = False  # the error is raised to the caller; no second copy on stderr
    try:
        compiled: _Pattern = re2.compile(pattern, options)
    except re2.error as exc:
        why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RoutePatternError(why) from None
    return compiled


class ChannelRoute(BaseModel):
    """Send cards whose labels (or Sentry project) match to `channel`. First match wins."""

    model_config = ConfigDict(extra="forbid")

    channel: Annotated[str, Field(pattern=SLACK_CHANNEL_ID)]
    match: dict[str, str] = Field(default_factory=dict, description="label == value, all must hold")
    match_re: dict[str, str] = Field(
        default_factory=dict, description="label matches the RE2 regex (anchored), all must hold"
    )
    sentry_projects: list[str] = Field(default_factory=list, description="Sentry project slugs")

    @field_validator("match_re")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():
            try:
                route_pattern(pattern)
            except RoutePatternError as exc:
                raise ValueError(
                    f"match_re.{label}: RE2 cannot compile {pattern!r} ({exc}); Seawall matches "
                    "routes with RE2 so that no label can stall it, and RE2 has no "
                    "backreferences or lookaround: rewrite the pattern without them"
                ) from None
        return value

    def matches_labels(self, labels: Mapping[str, str]) -> bool:
        if not self.match and not self.match_re:
            return False
        if any(labels.get(k) != v for k, v in self.match.items()):
            return False
        return all(route_pattern(p).fullmatch(labels.get(k, "")) for k, p in self.match_re.items())


CHECKLIST_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class Checklist(BaseModel):
    """Items to tick on change requests of one kind (e.g. database changes)."""

    model_config = ConfigDict(extra="forbid")

    match: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        description="words that pick this checklist when a change's description contains one "
        "(whole words, any case); empty: only `/incident change --checklist <name>` picks it",
    )
    items: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1)

    @field_validator("match")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        words = [" ".join(w.split()) for w in value]
        if any(not w for w in words):
            raise ValueError("a match word cannot be blank")
        return words


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
        default_factory=list,
        description="items to tick on a /incident change request no named checklist fits",
    )
    checklists: dict[Annotated[str, Field(pattern=CHECKLIST_NAME)], Checklist] = Field(
        default_factory=dict,
        description="checklists per kind of change, by name: picked by the words of the "
        "description, or by /incident change --checklist <name>",
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


class FileConfig(BaseModel):
    """The YAML file named by SEAWALL_CONFIG. Unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid")

    routes: list[ChannelRoute] = Field(default_factory=list)
    approvers: Approvers = Field(default_factory=Approvers)
    step_back: StepBack = Field(default_factory=StepBack)
    access: Access | None = Field(
        default=None, description="roles and who may do what; absent: everyone may"
    )
    retention: Retention = Field(default_factory=Retention)
    oncall: Oncall | None = Field(
        default=None,
        description="on-call rota, escalation and what pages (DESIGN.md Paging); absent: "
        "nobody is paged, alerts only post cards",
    )
    storm: StormConfig = Field(
        default_factory=StormConfig,
        description="when a channel's backlog becomes one storm card (bot/storm)",
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
        description="App-level token (xapp-…, scope connections:write): with it, `seawall "
        "serve` also takes Slack requests over Socket Mode (no public URL needed for Slack; "
        "webhooks still arrive over HTTP).",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Slack Web API base URL (the emulator's in tests).",
    )
    seawall_channel: str = Field(
        description="Default channel for triage cards: its ID, or its name as #alerts (looked "
        "up once at start); routes in SEAWALL_CONFIG may override."
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis, the system of record."
    )
    redis_sentinels: str | None = Field(
        default=None,
        description="Sentinels as host:port,host:port,...: with REDIS_SENTINEL_MASTER they "
        "replace REDIS_URL's host and port (its password and database number still apply).",
    )
    redis_sentinel_master: str | None = Field(
        default=None, description="The master name the Sentinels monitor (with REDIS_SENTINELS)."
    )
    redis_sentinel_password: str | None = Field(
        default=None, description="Password of the Sentinels themselves (their requirepass)."
    )
    port: int = Field(default=3000, ge=1, le=65535, description="HTTP port of `seawall serve`.")
    alertmanager_webhook_token: str = Field(
        description="Bearer token Alertmanager must send on POST /webhooks/alertmanager."
    )
    alertmanager_url: str | None = Field(
        default=None, description="Alertmanager base URL, for the Silence button (API v2)."
    )
    change_webhook_token: str | None = Field(
        default=None,
        description="Bearer token CI/CD must send on POST /webhooks/change (deploys and other "
        "changes); the route refuses everything without it.",
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
    seawall_body_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a request's whole body may take to arrive; slower ones get 408.",
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
    seawall_updates_per_minute: int = Field(
        default=45,
        gt=0,
        description=(
            "chat.update calls per minute for the whole workspace, shared by every worker "
            "(Slack's Tier 3 is about 50; a storm card and the groups' cards share it)."
        ),
    )
    seawall_replica_wait_ms: int = Field(
        default=500,
        ge=0,
        le=2500,
        description="Milliseconds a webhook waits for a Redis replica to confirm its write "
        "before answering 503 (the sender retries); 0 turns the wait off.",
    )
    seawall_replica_acks: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Replicas that must confirm a write before Seawall acknowledges it.",
    )

    @field_validator("slack_bot_token")
    @classmethod
    def _a_bot_token(cls, value: str) -> str:
        if value.startswith("xapp-"):
            raise ValueError(
                "this is an app-level token (xapp-…); SLACK_BOT_TOKEN needs the Bot User OAuth "
                "Token (xoxb-…) from your app's OAuth & Permissions page. The xapp- token "
                "belongs in SLACK_APP_TOKEN (Socket Mode)"
            )
        if value.startswith(("xoxp-", "xoxe")):
            raise ValueError(
                "this is a user token; SLACK_BOT_TOKEN needs the Bot User OAuth Token (xoxb-…) "
                "from your app's OAuth & Permissions page"
            )
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _an_app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError(
                "SLACK_APP_TOKEN is the app-level token (xapp-…, scope connections:write) from "
                "your app's Basic Information page, for Socket Mode; this is another kind"
            )
        return value or None

    @field_validator("seawall_channel")
    @classmethod
    def _channel_id_or_name(cls, value: str) -> str:
        value = value.strip()
        if re.fullmatch(SLACK_CHANNEL_ID, value):
            return value
        if re.fullmatch(CHANNEL_NAME, value.removeprefix("#")):
            return "#" + value.removeprefix("#")  # a name, looked up when Seawall starts
        raise ValueError(
            f"{value!r} is neither a channel ID nor a channel name. Use the channel ID (C…, at "
            "the bottom of the channel's details, About tab) or its name as #alerts"
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

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinel_addresses(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        sentinel_addresses(value)  # raises ValueError saying which entry is wrong
        return value.strip()

    @model_validator(mode="after")
    def _sentinels_with_a_master(self) -> Settings:
        if self.redis_sentinels and not self.redis_sentinel_master:
            raise ValueError(
                "REDIS_SENTINELS is set but REDIS_SENTINEL_MASTER is not: name the master the "
                "Sentinels monitor (the name in their `sentinel monitor <name> ...` line)"
            )
        if self.redis_sentinel_master and not self.redis_sentinels:
            raise ValueError(
                "REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not: list the Sentinels "
                "as host:port,host:port (or unset REDIS_SENTINEL_MASTER to use REDIS_URL)"
            )
        return self

    def sentinel_addresses(self) -> tuple[tuple[str, int], ...]:
        """The Sentinels to ask for the primary; () when REDIS_URL names Redis directly."""
        return sentinel_addresses(self.redis_sentinels) if self.redis_sentinels else ()

    @field_validator("sentry_url", "alertmanager_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value


CHANNEL_NAME = r"^[a-z0-9][a-z0-9_-]{0,79}$"  # Slack's rule for channel names


def sentinel_addresses(value: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` as pairs; ValueError names the entry that is not one."""
    found = []
    for entry in (part.strip() for part in value.split(",")):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"{entry!r} is not host:port; list the Sentinels as host:port,host:port "
                "(e.g. 10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379)"
            )
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


REQUIRED_HINTS = {
    "slack_bot_token": "the bot token from your Slack app's OAuth page (xoxb-…)",
    "slack_signing_secret": "from your Slack app's Basic Information page",
    "seawall_channel": "the channel where cards go by default: its ID (e.g. C0123ABCD) or #name",
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
    if not err["loc"]:  # a rule about several settings: its message names them
        return str(err["msg"]).removeprefix("Value error, ")
    field = str(err["loc"][0])
    name = field.upper()
    if err["type"] == "missing":
        hint = REQUIRED_HINTS.get(field, "")
        return f"{name} is not set" + (f": {hint}" if hint else "")
    return f"{name} is invalid: {str(err['msg']).removeprefix('Value error, ')}"


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
