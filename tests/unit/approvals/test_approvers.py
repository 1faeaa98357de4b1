"""Who counts as an approver: listed users and members of listed Slack user groups."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.approvals.approvers import MembershipUnknown, is_eligible
from tests.fixtures.approvals import APPROVER, GROUP, OUTSIDER, REQUESTER, change_request


class FakeSlackUsergroups:
    """Stand-in for Slack's usergroups.users.list (the network boundary); counts calls."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups
        self.calls: list[str] = []

    async def usergroups_users_list(self, *, usergroup: str) -> dict[str, Any]:
        self.calls.append(usergroup)
        if usergroup not in self.groups:
            response = AsyncSlackResponse(
                client=None,
                http_verb="POST",
                api_url="usergroups.users.list",
                req_args={},
                data={"ok": False, "error": "no_such_subteam"},
                headers={},
                status_code=200,
            )
            raise SlackApiError("no_such_subteam", response)  # type: ignore[no-untyped-call]
        return {"ok": True, "users": self.groups[usergroup]}


def eligible(slack: FakeSlackUsergroups, user: str, **overrides: Any) -> bool:
    return asyncio.run(is_eligible(slack, change_request(**overrides), user))


def test_a_listed_user_is_an_approver_without_asking_slack() -> None:
    slack = FakeSlackUsergroups({})
    assert eligible(slack, APPROVER)
    assert slack.calls == []


def test_a_member_of_a_listed_usergroup_is_an_approver() -> None:
    slack = FakeSlackUsergroups({GROUP: ["U0CAROL"]})
    assert eligible(slack, "U0CAROL")
    assert slack.calls == [GROUP]


def test_someone_in_no_list_and_no_group_is_not_an_approver() -> None:
    assert not eligible(FakeSlackUsergroups({GROUP: ["U0CAROL"]}), OUTSIDER)


def test_the_requester_never_counts_even_when_listed_or_in_the_group() -> None:
    slack = FakeSlackUsergroups({GROUP: [REQUESTER]})
    assert not eligible(slack, REQUESTER, approver_users=[REQUESTER])
    assert slack.calls == []


def test_nobody_counts_on_a_closed_request() -> None:
    assert not eligible(FakeSlackUsergroups({}), APPROVER, state="expired")


def test_a_group_slack_will_not_list_makes_membership_unknown() -> None:
    with pytest.raises(MembershipUnknown, match="no_such_subteam"):
        eligible(FakeSlackUsergroups({}), OUTSIDER)


def test_a_failing_group_does_not_hide_membership_of_another() -> None:
    slack = FakeSlackUsergroups({"S0OPS": [OUTSIDER]})
    assert eligible(slack, OUTSIDER, approver_usergroups=[GROUP, "S0OPS"])
