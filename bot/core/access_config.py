"""The `access:` section of SEAWALL_CONFIG (DESIGN.md "Access"): roles and who may do what.

Only the shape and its validation live here, in the kernel; bot/access decides with it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLACK_CHANNEL_ID = r"^[CGD][A-Z0-9]{2,}$"

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
