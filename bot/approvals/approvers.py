"""Who counts as an approver: the configured users, or members of the configured Slack user
groups. Membership is asked of Slack every time (it changes, and several processes run), so
nothing that matters is cached in a process."""

from __future__ import annotations

from bot.core.errors import SeawallError
from bot.core.slack import UsergroupLister, in_usergroups
from bot.models.approval import OPEN_STATES, Approval


class MembershipUnknown(SeawallError):
    """Slack could not tell whether someone is in an approver user group."""


async def is_eligible(slack: UsergroupLister, a: Approval, user: str) -> bool:
    """May `user` approve (or tick) request `a`? Never its requester, never once it is closed.
    Raises MembershipUnknown when it depends on a user group Slack would not list."""
    if user == a.requested_by or a.state not in OPEN_STATES:
        return False
    if user in a.approver_users:
        return True
    member, failures = await in_usergroups(slack, user, a.approver_usergroups)
    if member:
        return True
    if failures:
        raise MembershipUnknown(
            "Seawall could not check whether you are in the approver user group (Slack said "
            f"{'; '.join(failures)}); nothing was recorded. Try again, or ask an admin to check "
            "the approvers in SEAWALL_CONFIG and the app's usergroups:read scope."
        )
    return False
