"""conversations.create / invite / setTopic and pins.add, as Slack answers them."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.emulator import SlackEmulator

from .scenario import ALERTS, ALICE, BOB
from .test_web_api import slack_error


def test_create_returns_a_public_channel_the_bot_is_a_member_of(
    slack: WebClient, emu: SlackEmulator
) -> None:
    channel = slack.conversations_create(name="inc-20261123-db-down")["channel"]
    assert channel["name"] == "inc-20261123-db-down"
    assert channel["is_member"] is True
    assert channel["is_private"] is False
    assert channel["id"].startswith("C")
    assert emu.members(channel["id"]) == {"U0SEAWALLBOT"}
    assert emu.channel_id("inc-20261123-db-down") == channel["id"]
    assert slack.chat_postMessage(channel=channel["id"], text="hello")["ok"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("Inc-DB", "invalid_name_specials"),
        ("inc db", "invalid_name_specials"),
        ("inc.db", "invalid_name_specials"),
        ("inc-é", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("-_-", "invalid_name_punctuation"),
    ],
)
def test_create_refuses_names_slack_refuses(slack: WebClient, name: str, error: str) -> None:
    assert slack_error(lambda: slack.conversations_create(name=name))["error"] == error


def test_create_accepts_eighty_characters_and_underscores(slack: WebClient) -> None:
    assert slack.conversations_create(name="a_" * 40)["ok"]


def test_create_refuses_a_taken_name_configured_or_created(slack: WebClient) -> None:
    assert slack_error(lambda: slack.conversations_create(name="alerts"))["error"] == "name_taken"
    slack.conversations_create(name="inc-x")
    assert slack_error(lambda: slack.conversations_create(name="inc-x"))["error"] == "name_taken"


def test_invite_adds_people_and_refuses_them_twice(slack: WebClient, emu: SlackEmulator) -> None:
    channel = slack.conversations_create(name="inc-x")["channel"]["id"]
    assert slack.conversations_invite(channel=channel, users=f"{ALICE},{BOB}")["ok"]
    assert emu.members(channel) == {"U0SEAWALLBOT", ALICE, BOB}
    again = slack_error(lambda: slack.conversations_invite(channel=channel, users=ALICE))
    assert again["error"] == "already_in_channel"


def test_invite_of_an_unknown_user_invites_nobody_unless_forced(
    slack: WebClient, emu: SlackEmulator
) -> None:
    channel = slack.conversations_create(name="inc-x")["channel"]["id"]
    refused = slack_error(
        lambda: slack.conversations_invite(channel=channel, users=f"{ALICE},U0NOBODY")
    )
    assert refused["error"] == "user_not_found"
    assert refused["errors"] == [{"user": "U0NOBODY", "ok": False, "error": "user_not_found"}]
    assert ALICE not in emu.members(channel)
    forced = slack.conversations_invite(channel=channel, users=f"{ALICE},U0NOBODY", force=True)
    assert forced["ok"]
    assert forced["errors"][0]["user"] == "U0NOBODY"
    assert ALICE in emu.members(channel)


def test_invite_refuses_the_bot_itself_and_unknown_channels(slack: WebClient) -> None:
    channel = slack.conversations_create(name="inc-x")["channel"]["id"]
    own = slack_error(lambda: slack.conversations_invite(channel=channel, users="U0SEAWALLBOT"))
    assert own["error"] == "cant_invite_self"
    missing = slack_error(lambda: slack.conversations_invite(channel="C0NOPE", users=ALICE))
    assert missing["error"] == "channel_not_found"
    empty = slack_error(lambda: slack.conversations_invite(channel=channel, users=""))
    assert empty["error"] == "no_user"


def test_pins_add_pins_once(slack: WebClient, emu: SlackEmulator) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="summary")["ts"]
    assert slack.pins_add(channel=ALERTS, timestamp=ts)["ok"]
    assert emu.pins(ALERTS) == [ts]
    again = slack_error(lambda: slack.pins_add(channel=ALERTS, timestamp=ts))
    assert again["error"] == "already_pinned"


def test_pins_add_refuses_missing_messages_and_channels(slack: WebClient) -> None:
    missing = slack_error(lambda: slack.pins_add(channel=ALERTS, timestamp="1.000001"))
    assert missing["error"] == "message_not_found"
    nowhere = slack_error(lambda: slack.pins_add(channel="C0NOPE", timestamp="1.000001"))
    assert nowhere["error"] == "channel_not_found"
    nothing = slack_error(lambda: slack.api_call("pins.add", json={"channel": ALERTS}))
    assert nothing["error"] == "no_item_specified"


def test_set_topic_changes_the_topic(slack: WebClient, emu: SlackEmulator) -> None:
    channel = slack.conversations_create(name="inc-x")["channel"]["id"]
    response = slack.conversations_setTopic(channel=channel, topic="SEV1 · open")
    assert response["channel"]["topic"]["value"] == "SEV1 · open"
    assert emu.topic(channel) == "SEV1 · open"
    too_long = slack_error(lambda: slack.conversations_setTopic(channel=channel, topic="x" * 251))
    assert too_long["error"] == "too_long"
