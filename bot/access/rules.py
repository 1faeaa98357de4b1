"""Who may do what: pure decisions on the `access:` configuration (DESIGN.md "Access").

An action (`alert.silence`, `playbook.quarantine`, ...) is granted by the roles `allow` lists
for it, else for its family (`playbook.*`, `alert.*`), else to everyone. Membership of a role
is decided by the caller (bot/access/flow.py asks Slack about user groups); these functions
only say which roles would do and what to tell a person who holds none of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.core.access_config import EVERYONE, Access

# What each action means to a person, for refusals ("You need ... to silence alerts").
DOING = {
    "incident.declare": "declare incidents",
    "incident.resolve": "resolve incidents",
    "incident.change": "ask for approval of a change",
    "alert.ack": "acknowledge alerts",
    "alert.silence": "silence alerts",
    "sentry.resolve": "resolve issues in Sentry",
    "sentry.ignore": "ignore issues in Sentry",
    "approval.approve": "approve changes",
    "oncall.take": "take the pager",
    "oncall.handover": "hand the pager over",
    "oncall.pause": "pause or resume paging",
}
# Slash commands that change something; `access.channels` limits where these may be typed.
CHANGING = frozenset({"incident.declare", "incident.resolve", "incident.change"})


def playbook_action(name: str) -> str:
    return f"playbook.{name}"


def granting_roles(access: Access | None, action: str) -> tuple[str, ...] | None:
    """The roles that may do `action`; None when everyone may (nothing configured for it)."""
    if access is None:
        return None
    family = action.split(".", 1)[0] + ".*"
    roles = access.allow.get(action, access.allow.get(family))
    if roles is None or EVERYONE in roles:
        return None
    return tuple(roles)


def changes_things(action: str) -> bool:
    return action in CHANGING or action.startswith("playbook.")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    roles: tuple[str, ...] = ()  # the roles that would have allowed it (when refused)
    channel_refused: bool = False


def decide(
    access: Access | None, action: str, held: Collection[str], *, channel_ok: bool = True
) -> Decision:
    """May someone holding the roles `held` do `action` (typed in an allowed channel)?"""
    roles = granting_roles(access, action)
    if not channel_ok:
        return Decision(False, action, roles or (), channel_refused=True)
    if roles is None or any(role in held for role in roles):
        return Decision(True, action)
    return Decision(False, action, roles)


def channel_allowed(access: Access | None, action: str, channel: str, *, incident: bool) -> bool:
    """`access.channels` limits where slash commands that change things may be typed; an
    incident's own channel always counts (that is where it is contained)."""
    if access is None or not access.channels or not changes_things(action):
        return True
    return incident or channel in access.channels


def holders(access: Access, roles: Collection[str]) -> list[str]:
    """Slack mrkdwn mentions of who holds `roles` (users, then user groups), deduplicated."""
    found: list[str] = []
    for name in roles:
        role = access.roles.get(name)
        if role is None:
            continue
        found += [f"<@{u}>" for u in role.users] + [f"<!subteam^{g}>" for g in role.usergroups]
    return list(dict.fromkeys(found))


def what(action: str) -> str:
    if action.startswith("playbook."):
        return f"run the playbook {action.removeprefix('playbook.')}"
    return DOING.get(action, action)


def refusal(access: Access | None, decision: Decision) -> str:
    """The one sentence (or two) for a person who may not do it: the role they lack and who
    holds it, and that nothing was done."""
    if decision.channel_refused:
        where = ", ".join(f"<#{c}>" for c in (access.channels if access else []))
        return (
            f"Commands that change things are only taken in {where} or an incident's own "
            f"channel; nothing was done. Run it there."
        )
    roles = " or ".join(f"*{r}*" for r in decision.roles)
    kind = "role" if len(decision.roles) == 1 else "roles"
    who = ", ".join(holders(access, decision.roles)) if access else ""
    return (
        f"You need the {kind} {roles} to {what(decision.action)} (`{decision.action}`); "
        f"nothing was done. Who holds it: {who or 'nobody yet'}. Ask one of them, or an "
        "admin to change `access:` in SEAWALL_CONFIG."
    )
