"""Who counts as an approver: the configured users, or members of the configured Slack user
groups. Membership is asked of Slack every time (it changes, and several processes run), so
nothing that matters is cached in a process."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from bot.core.errors import SeawallError
from bot.models.approval import OPEN_STATES, Approval

log = logging.getLogger("seawall.approvals")


class UsergroupLister(Protocol):
    """The one Slack Web API call needed here (slack_sdk's AsyncWebClient has it)."""

    async def usergroups_users_list(self, *, usergroup: str) -> Any: ...


class MembershipUnknown(SeawallError):
    """Slack could not tell whether someone is in an approver user group."""


async def is_eligible(slack: UsergroupLister, a: Approval, user: str) -> bool:
    """May `user` approve (or tick) request `a`? Never its requester, never once it is closed.
    Raises MembershipUnknown when it depends on a user group Slack would not list."""
    if user == a.requested_by or a.state not in OPEN_STATES:
        return False
    if user in a.approver_users:
        return True
    failures = []
    for group in a.approver_usergroups:
        try:
            response = await slack.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("usergroups.users.list %s failed: %s", group, error)
            failures.append(f"{group}: {error}")
            continue
        if user in (response.get("users") or []):
            return True
    if failures:
        raise MembershipUnknown(
            "Seawall could not check whether you are in the approver user group (Slack said "
            f"{'; '.join(failures)}); nothing was recorded. Try again, or ask an admin to check "
            "the approvers in SEAWALL_CONFIG and the app's usergroups:read scope."
        )
    return False
