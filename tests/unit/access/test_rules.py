"""Who may do what, decided from the `access:` configuration alone (no Slack, no Redis)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.access.rules import (
    channel_allowed,
    decide,
    granting_roles,
    playbook_action,
    refusal,
)
from bot.core.access_config import Access
from bot.core.config import FileConfig

ACCESS = Access.model_validate(
    {
        "roles": {
            "responders": {"users": ["U0ALICE"], "usergroups": ["S0ONCALL"]},
            "admins": {"users": ["U0CAROL"]},
        },
        "allow": {
            "incident.declare": ["everyone"],
            "incident.resolve": ["responders"],
            "alert.silence": ["responders"],
            "playbook.quarantine": ["responders", "admins"],
            "playbook.*": ["admins"],
        },
        "channels": ["C0INCIDENTS"],
    }
)


def test_an_action_not_listed_is_open_to_everyone() -> None:
    assert granting_roles(ACCESS, "alert.ack") is None
    assert decide(ACCESS, "alert.ack", set()).allowed


def test_no_access_section_opens_everything() -> None:
    assert decide(None, playbook_action("quarantine"), set()).allowed


def test_everyone_in_the_list_opens_the_action() -> None:
    assert decide(ACCESS, "incident.declare", set()).allowed


def test_the_exact_action_wins_over_its_family() -> None:
    assert granting_roles(ACCESS, "playbook.quarantine") == ("responders", "admins")
    assert granting_roles(ACCESS, "playbook.slot-lag") == ("admins",)


def test_holding_one_of_the_roles_allows_and_none_refuses_naming_them() -> None:
    assert decide(ACCESS, "playbook.quarantine", {"responders"}).allowed
    refused = decide(ACCESS, "playbook.quarantine", set())
    assert not refused.allowed
    assert refused.roles == ("responders", "admins")


def test_the_refusal_names_the_role_and_who_holds_it_and_that_nothing_was_done() -> None:
    text = refusal(ACCESS, decide(ACCESS, "alert.silence", set()))
    assert "*responders*" in text
    assert "<@U0ALICE>" in text
    assert "<!subteam^S0ONCALL>" in text
    assert "nothing was done" in text
    assert "silence alerts" in text


def test_commands_that_change_things_are_taken_in_the_listed_channels_or_an_incidents() -> None:
    assert channel_allowed(ACCESS, "incident.declare", "C0INCIDENTS", incident=False)
    assert not channel_allowed(ACCESS, "incident.declare", "C0RANDOM", incident=False)
    assert channel_allowed(ACCESS, "incident.resolve", "C0INC123", incident=True)
    assert not channel_allowed(ACCESS, "playbook.quarantine", "D0DM", incident=False)


def test_a_channel_refusal_says_where_to_run_it() -> None:
    refused = decide(ACCESS, "incident.declare", {"responders"}, channel_ok=False)
    assert not refused.allowed
    assert "<#C0INCIDENTS>" in refusal(ACCESS, refused)


def test_a_role_granted_by_another_feature_counts() -> None:
    assert decide(ACCESS, "alert.silence", {"responders"}).allowed


@pytest.mark.parametrize(
    ("allow", "problem"),
    [
        ({"alert.silnce": ["admins"]}, "not an action Seawall knows"),
        ({"alert.silence": ["ghosts"]}, "not defined under access.roles"),
        ({"playbook.Bad Name": ["admins"]}, "not an action Seawall knows"),
    ],
)
def test_a_typo_in_access_is_an_error_not_an_open_door(
    allow: dict[str, list[str]], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        FileConfig.model_validate({"access": {"roles": {"admins": {}}, "allow": allow}})


def test_everyone_cannot_be_redefined_as_a_role() -> None:
    with pytest.raises(ValidationError, match="built in"):
        Access.model_validate({"roles": {"everyone": {"users": ["U0ALICE"]}}})
