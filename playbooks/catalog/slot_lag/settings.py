"""slot-lag's settings (`playbooks.slot-lag` in SEAWALL_CONFIG, DESIGN.md's contract plus
`production` per database) and parameters (what `/playbook slot-lag ...` may say).

    playbooks:
      slot-lag:
        databases:
          orders:
            dsn: "postgresql://monitor@db1/orders"   # read-only role with pg_monitor
            admin_dsn_env: ORDERS_ADMIN_DSN          # env var: role with REPLICATION and
                                                     # pg_signal_backend (terminate, drop)
            production: true                         # terminate and drop need four-eyes
        watch: {interval: 30s, warn_percent: 50, critical_percent: 80}   # of the cap
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.core.config import FileConfig
from bot.core.errors import ConfigError, SeawallError
from bot.core.jobs import cron_for
from bot.slots.rules import Thresholds
from playbooks.types import Identifier

NAME = "slot-lag"
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, None: 1}


def seconds(value: Any) -> Any:
    """A duration as the config writes it (30s, 5m, 1h, or a number of seconds) in seconds;
    anything else is left for pydantic to refuse."""
    if isinstance(value, str) and (match := DURATION.fullmatch(value)):
        return float(match.group(1)) * UNIT_S[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(seconds)]


class Database(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsn: str = Field(description="read-only role with pg_monitor, for looking and watching")
    admin_dsn_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] | None = Field(
        default=None,
        description="environment variable holding the admin DSN, for terminate and drop",
    )
    production: bool = Field(default=False, description="terminate and drop need four-eyes")


class Watch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval: Duration = Field(default=30.0, ge=1, le=3600)
    warn_percent: float = Field(default=50.0, gt=0, lt=100)
    critical_percent: float = Field(default=80.0, gt=0, le=100)

    @field_validator("interval")
    @classmethod
    def _even_pace(cls, value: float) -> float:
        cron_for(value)  # raises ValueError saying which intervals work
        return value

    @model_validator(mode="after")
    def _warn_below_critical(self) -> Watch:
        if self.warn_percent >= self.critical_percent:
            raise ValueError("warn_percent must be below critical_percent")
        return self

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.warn_percent, self.critical_percent)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    databases: dict[Identifier, Database] = Field(min_length=1)
    watch: Watch = Field(default_factory=Watch)


def settings_from(raw: Mapping[str, Any]) -> Settings:
    """Parsed settings, or a ConfigError with one line per wrong key (`seawall check` and
    `seawall worker` print them; a step shows them on its run card)."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"playbooks.{NAME}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors()
            ]
        ) from exc


def configured(config: FileConfig) -> Settings | None:
    """The settings when slot-lag is configured at all (None: it is not)."""
    raw = config.playbooks.get(NAME)
    return settings_from(raw) if raw else None


class Params(BaseModel):
    db: Identifier | None = Field(
        default=None,
        description="the database, as named under playbooks.slot-lag.databases "
        "(may be left out when only one is configured)",
    )
    drop: Identifier | None = Field(
        default=None,
        description="a slot to drop; its consumer is disconnected first and must re-snapshot",
    )
    terminate: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="the PID of a session to terminate"
    )

    @field_validator("drop", "terminate")
    @classmethod
    def _one_action_on_a_named_database(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        if not info.data.get("db"):
            raise ValueError(
                f"name the database to act on: `/playbook slot-lag <db> {info.field_name}=…`"
            )
        if info.field_name == "terminate" and info.data.get("drop"):
            raise ValueError("one action per run: drop= or terminate=, not both")
        return value


def params_of(params: BaseModel) -> Params:
    return params if isinstance(params, Params) else Params.model_validate(params.model_dump())


def dropping(params: BaseModel, settings: Mapping[str, Any]) -> bool:
    del settings
    return params_of(params).drop is not None


def terminating(params: BaseModel, settings: Mapping[str, Any]) -> bool:
    del settings
    return params_of(params).terminate is not None


def acting(params: BaseModel, settings: Mapping[str, Any]) -> bool:
    return dropping(params, settings) or terminating(params, settings)


def production(params: BaseModel, settings: Mapping[str, Any]) -> bool:
    """Four-eyes when the database is marked production, and whenever that is not clear
    (settings that do not parse, a database that is not configured)."""
    try:
        parsed = Settings.model_validate(settings)
    except ValidationError:
        return True
    db = parsed.databases.get(params_of(params).db or "")
    return db is None or db.production


def database_of(settings: Settings, name: str | None) -> tuple[str, Database]:
    """The database the command names, or the only one configured."""
    known = ", ".join(sorted(settings.databases))
    if name is None:
        if len(settings.databases) == 1:
            return next(iter(settings.databases.items()))
        raise SeawallError(
            f"Several databases are configured ({known}): name one, e.g. "
            f"`/playbook slot-lag {min(settings.databases)}`; nothing was done"
        )
    if name not in settings.databases:
        raise SeawallError(
            f"There is no database `{name}` under playbooks.slot-lag (only {known}); "
            "nothing was done"
        )
    return name, settings.databases[name]


def admin_dsn(name: str, db: Database, environ: Mapping[str, str]) -> str:
    """The admin DSN from the environment, or a SeawallError saying what to set."""
    if db.admin_dsn_env is None:
        raise SeawallError(
            f"{name} has no admin_dsn_env in SEAWALL_CONFIG, so Seawall can look but not act "
            "there; nothing was changed. Name an environment variable holding the DSN of a "
            "role with REPLICATION and pg_signal_backend"
        )
    dsn = environ.get(db.admin_dsn_env)
    if not dsn:
        raise SeawallError(
            f"{db.admin_dsn_env} is not set in the worker's environment, so Seawall cannot act "
            f"on {name}; nothing was changed. Set it to the DSN of a role with REPLICATION and "
            "pg_signal_backend, then run the playbook again"
        )
    return dsn
