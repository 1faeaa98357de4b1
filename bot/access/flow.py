"""Checking an action for a person: which roles they hold, asked of Slack for user groups.

Membership is asked every time (it changes, and several processes run), only for the roles
that would grant the action, so an action open to everyone costs no Slack call."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.access.rules import Decision, channel_allowed, decide, granting_roles, refusal
from bot.core.access_config import Access
from bot.core.errors import SeawallError
from bot.core.slack import UsergroupLister, in_usergroups


class MembershipUnknown(SeawallError):
    """Slack could not say whether someone is in a user group that grants the action."""


async def roles_held(
    access: Access, slack: UsergroupLister, user_id: str, roles: Collection[str]
) -> set[str]:
    """Which of `roles` `user_id` holds. Raises MembershipUnknown when it depends on a user
    group Slack would not list (refusing then is the safe answer, with the reason)."""
    held: set[str] = set()
    failures: list[str] = []
    for name in roles:
        role = access.roles.get(name)
        if role is None:
            continue
        if user_id in role.users:
            held.add(name)
            continue
        member, failed = await in_usergroups(slack, user_id, role.usergroups)
        failures += failed
        if member:
            held.add(name)
    if not held and failures:
        raise MembershipUnknown(
            "Seawall could not check your role (Slack said "
            f"{'; '.join(failures)}); nothing was done. Try again, or ask an admin to check "
            "`access:` in SEAWALL_CONFIG and the app's usergroups:read scope."
        )
    return held


async def check(
    access: Access | None,
    slack: UsergroupLister,
    user_id: str,
    action: str,
    *,
    channel: str | None = None,
    incident_channel: bool = False,
    also_holds: Collection[str] = (),
) -> Decision:
    """Decide `action` for `user_id`. `channel` is where a slash command was typed (None for
    buttons and reactions: they act on Seawall's own cards, wherever those are).
    `also_holds` are roles granted by other features (e.g. on call counts as a responder)."""
    channel_ok = channel is None or channel_allowed(
        access, action, channel, incident=incident_channel
    )
    roles = granting_roles(access, action)
    held: set[str] = set(also_holds)
    if access is not None and roles is not None and channel_ok and not held & set(roles):
        held |= await roles_held(access, slack, user_id, roles)
    return decide(access, action, held, channel_ok=channel_ok)


async def refusal_for(
    access: Access | None,
    slack: UsergroupLister,
    user_id: str,
    action: str | None,
    **where: Any,
) -> str | None:
    """The sentence refusing `user_id` the action, or None when they may (or nothing is
    needed)."""
    if action is None:
        return None
    try:
        decision = await check(access, slack, user_id, action, **where)
    except MembershipUnknown as exc:
        return str(exc)
    return None if decision.allowed else refusal(access, decision)
