"""usergroups.users.list: the members of a user group, as Slack answers it."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .conftest import EmulatorFactory
from .scenario import ALICE, BOB, TOKEN

ONCALL = "S0ONCALL"


@pytest.fixture
def slack_with_groups(make_emulator: EmulatorFactory, api_url: str) -> WebClient:
    make_emulator(rate_limits_enabled=False, usergroups={ONCALL: [ALICE, BOB], "S0EMPTY": []})
    return WebClient(token=TOKEN, base_url=api_url)


def test_usergroups_users_list_gives_the_members(slack_with_groups: WebClient) -> None:
    response = slack_with_groups.usergroups_users_list(usergroup=ONCALL)
    assert response["users"] == [ALICE, BOB]


def test_an_empty_usergroup_has_no_members(slack_with_groups: WebClient) -> None:
    assert slack_with_groups.usergroups_users_list(usergroup="S0EMPTY")["users"] == []


def test_an_unknown_usergroup_answers_no_such_subteam(slack_with_groups: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        slack_with_groups.usergroups_users_list(usergroup="S0NOPE")
    assert raised.value.response["error"] == "no_such_subteam"


def test_a_missing_usergroup_argument_is_refused(slack_with_groups: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        slack_with_groups.api_call("usergroups.users.list")
    assert raised.value.response["error"] == "invalid_arguments"


def test_usergroups_users_list_is_rate_limited_at_tier_2(
    make_emulator: EmulatorFactory, api_url: str
) -> None:
    emu = make_emulator(usergroups={ONCALL: [ALICE]})
    client = WebClient(token=TOKEN, base_url=api_url)
    for _ in range(20):
        client.usergroups_users_list(usergroup=ONCALL)
    with pytest.raises(SlackApiError) as raised:
        client.usergroups_users_list(usergroup=ONCALL)
    assert raised.value.response.status_code == 429
    assert emu.calls_to("usergroups.users.list")[-1].http_status == 429
