"""Web API methods through slack_sdk's WebClient: the answers Slack gives, and what is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.slack_response import SlackResponse

from bot.emulator import EmulatedMessage, SlackEmulator

from .scenario import ALERTS, ALICE, BOB, DATABASE, TOKEN, Clocks

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*disk full* on web-1"}}


def slack_error(call: Callable[[], Any]) -> SlackResponse:
    with pytest.raises(SlackApiError) as raised:
        call()
    response: SlackResponse = raised.value.response
    return response


def test_auth_test_describes_the_bot_user_and_team(slack: WebClient) -> None:
    response = slack.auth_test()
    assert response["user_id"] == "U0SEAWALLBOT"
    assert response["team_id"] == "T0SEAWALL"
    assert response["bot_id"] == "B0SEAWALLBOT"


def test_a_call_without_a_token_is_refused_as_not_authed(api_url: str, emu: SlackEmulator) -> None:
    response = slack_error(lambda: WebClient(base_url=api_url).auth_test())
    assert response["error"] == "not_authed"
    assert response.status_code == 200


def test_a_call_with_an_unknown_token_is_refused_as_invalid_auth(
    api_url: str, emu: SlackEmulator
) -> None:
    client = WebClient(token="xoxb-forged", base_url=api_url)
    assert slack_error(client.auth_test)["error"] == "invalid_auth"


def test_an_extra_token_is_accepted(api_url: str, make_emulator: Any) -> None:
    make_emulator(extra_tokens={"xoxb-second"})
    assert WebClient(token="xoxb-second", base_url=api_url).auth_test()["ok"]


def test_a_token_sent_as_a_form_field_is_accepted(
    api_url: str, emu: SlackEmulator, http: httpx.Client
) -> None:
    response = http.post(f"{api_url}auth.test", data={"token": TOKEN})
    assert response.json()["ok"] is True
    assert emu.calls[-1].token == TOKEN
    assert "token" not in emu.calls[-1].params


def test_an_unknown_method_answers_unknown_method(slack: WebClient) -> None:
    assert slack_error(lambda: slack.api_call("chat.teleport"))["error"] == "unknown_method"


def test_post_message_stores_the_message_and_returns_its_ts(
    slack: WebClient, emu: SlackEmulator
) -> None:
    response = slack.chat_postMessage(channel=ALERTS, text="disk full", blocks=[SECTION])
    [stored] = emu.messages(ALERTS)
    assert response["ts"] == stored.ts
    assert response["message"]["blocks"] == [SECTION]
    assert stored.user == "U0SEAWALLBOT"
    assert emu.calls_to("chat.postMessage")[0].params["blocks"] == [SECTION]


def test_post_message_ts_values_are_unique_and_increasing_under_a_frozen_clock(
    slack: WebClient, emu: SlackEmulator
) -> None:
    ts = [slack.chat_postMessage(channel=ALERTS, text=str(i))["ts"] for i in range(5)]
    assert len(set(ts)) == 5
    assert ts == sorted(ts, key=float)
    assert all(len(t.split(".")[1]) == 6 for t in ts)
    assert [m.ts for m in emu.messages(ALERTS)] == ts


def test_post_message_to_an_unknown_channel_answers_channel_not_found(slack: WebClient) -> None:
    response = slack_error(lambda: slack.chat_postMessage(channel="C0NOPE", text="hi"))
    assert response["error"] == "channel_not_found"


def test_post_message_accepts_a_channel_name_with_a_hash(
    slack: WebClient, emu: SlackEmulator
) -> None:
    response = slack.chat_postMessage(channel="#database", text="hi")
    assert response["channel"] == DATABASE
    assert len(emu.messages(DATABASE)) == 1


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_without_text_or_blocks_answers_no_text(slack: WebClient) -> None:
    assert slack_error(lambda: slack.chat_postMessage(channel=ALERTS))["error"] == "no_text"


def test_post_message_longer_than_40000_characters_answers_msg_too_long(slack: WebClient) -> None:
    response = slack_error(lambda: slack.chat_postMessage(channel=ALERTS, text="x" * 40_001))
    assert response["error"] == "msg_too_long"


def test_blocks_with_more_than_12000_characters_in_all_answer_msg_blocks_too_long(
    slack: WebClient,
) -> None:
    # Each section is valid (under 3,000); together they are more text than Slack takes.
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2_500}}] * 5
    post = slack.chat_postMessage
    response = slack_error(lambda: post(channel=ALERTS, text="storm", blocks=blocks))
    assert response["error"] == "msg_blocks_too_long"
    assert post(channel=ALERTS, text="storm", blocks=blocks[:4])["ok"]


def test_post_message_with_invalid_blocks_answers_invalid_blocks_with_a_json_pointer(
    slack: WebClient,
) -> None:
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    response = slack_error(
        lambda: slack.chat_postMessage(channel=ALERTS, text="t", blocks=[SECTION, long_section])
    )
    assert response["error"] == "invalid_blocks"
    assert response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
    ]


def test_invalid_blocks_inside_attachments_are_refused(slack: WebClient) -> None:
    attachment = {
        "color": "#f00",
        "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    response = slack_error(
        lambda: slack.chat_postMessage(channel=ALERTS, text="t", attachments=[attachment])
    )
    assert response["error"] == "invalid_blocks"
    assert "/attachments/0/blocks/0/text/type" in response["errors"][0]


def test_form_encoded_blocks_are_decoded_like_json_ones(
    api_url: str, emu: SlackEmulator, http: httpx.Client
) -> None:
    body = {"token": TOKEN, "channel": ALERTS, "blocks": '[{"type": "divider"}]'}
    assert http.post(f"{api_url}chat.postMessage", data=body).json()["ok"] is True
    assert emu.messages(ALERTS)[0].blocks == [{"type": "divider"}]


def test_blocks_that_are_not_json_answer_invalid_blocks_format(
    api_url: str, emu: SlackEmulator, http: httpx.Client
) -> None:
    body = {"token": TOKEN, "channel": ALERTS, "blocks": "[{not json"}
    answer = http.post(f"{api_url}chat.postMessage", data=body).json()
    assert answer["error"] == "invalid_blocks_format"


def test_reply_to_a_missing_thread_answers_thread_not_found(slack: WebClient) -> None:
    response = slack_error(
        lambda: slack.chat_postMessage(channel=ALERTS, text="hi", thread_ts="1.000001")
    )
    assert response["error"] == "thread_not_found"


def test_replies_are_stored_under_their_thread_parent(slack: WebClient, emu: SlackEmulator) -> None:
    parent = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    reply = slack.chat_postMessage(channel=ALERTS, text="acked by alice", thread_ts=parent)
    [top] = emu.messages(ALERTS)
    assert [r.text for r in top.replies] == ["acked by alice"]
    assert emu.message(ALERTS, reply["ts"]) == top.replies[0]
    assert top.replies[0].thread_ts == parent


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_update_replaces_blocks_keeps_text_and_counts_the_edit(
    slack: WebClient, emu: SlackEmulator
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="firing", blocks=[SECTION])["ts"]
    slack.chat_update(channel=ALERTS, ts=ts, blocks=[{"type": "divider"}])
    stored = emu.message(ALERTS, ts)
    assert stored is not None
    assert (stored.text, stored.blocks, stored.edits) == ("firing", [{"type": "divider"}], 1)


def test_update_of_a_missing_message_answers_message_not_found(slack: WebClient) -> None:
    response = slack_error(lambda: slack.chat_update(channel=ALERTS, ts="1.000001", text="x"))
    assert response["error"] == "message_not_found"


def test_update_of_a_persons_message_answers_cant_update_message(
    slack: WebClient, emu: SlackEmulator
) -> None:
    mine = emu.post_user_message(ALERTS, ALICE, "is prod down?")
    response = slack_error(lambda: slack.chat_update(channel=ALERTS, ts=mine.ts, text="no"))
    assert response["error"] == "cant_update_message"


def test_update_with_invalid_blocks_answers_invalid_blocks(slack: WebClient) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    response = slack_error(
        lambda: slack.chat_update(channel=ALERTS, ts=ts, text="x", blocks=[{"type": "carousel"}])
    )
    assert response["error"] == "invalid_blocks"


def test_post_ephemeral_records_the_message_for_that_user_only(
    slack: WebClient, emu: SlackEmulator
) -> None:
    response = slack.chat_postEphemeral(channel=ALERTS, user=ALICE, text="only you")
    assert response["message_ts"]
    [ephemeral] = emu.ephemerals
    assert (ephemeral.channel, ephemeral.user, ephemeral.text) == (ALERTS, ALICE, "only you")
    assert emu.messages(ALERTS) == []


def test_post_ephemeral_to_an_unknown_user_answers_user_not_found(slack: WebClient) -> None:
    response = slack_error(
        lambda: slack.chat_postEphemeral(channel=ALERTS, user="U0NOPE", text="x")
    )
    assert response["error"] == "user_not_found"


def test_users_info_gives_the_time_zone_offset_at_the_emulated_time(
    slack: WebClient, clocks: Clocks
) -> None:
    winter = slack.users_info(user=ALICE)["user"]
    new_york = slack.users_info(user=BOB)["user"]
    clocks.wall.advance(180 * 86_400)  # mid-July: Paris is on summer time
    summer = slack.users_info(user=ALICE)["user"]
    assert (winter["tz"], winter["tz_offset"], summer["tz_offset"]) == ("Europe/Paris", 3600, 7200)
    assert winter["real_name"] == winter["profile"]["real_name"] == "Alice Martin"
    assert new_york["tz_offset"] == -5 * 3600


def test_users_info_of_an_unknown_user_answers_user_not_found(slack: WebClient) -> None:
    assert slack_error(lambda: slack.users_info(user="U0NOPE"))["error"] == "user_not_found"


def test_conversations_open_gives_one_dm_per_user_that_accepts_posts(
    slack: WebClient, emu: SlackEmulator
) -> None:
    first = slack.conversations_open(users=ALICE)["channel"]["id"]
    again = slack.conversations_open(users=[ALICE])
    slack.chat_postMessage(channel=first, text="you are paged")
    assert first.startswith("D")
    assert again["channel"]["id"] == first
    assert again["already_open"] is True
    assert [m.text for m in emu.messages(first)] == ["you are paged"]


def test_post_message_to_a_user_id_lands_in_their_dm(slack: WebClient, emu: SlackEmulator) -> None:
    slack.chat_postMessage(channel=BOB, text="page")
    assert [m.text for m in emu.messages(emu.dm_channel(BOB))] == ["page"]


def test_reactions_add_twice_answers_already_reacted(slack: WebClient, emu: SlackEmulator) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    slack.reactions_add(channel=ALERTS, timestamp=ts, name="eyes")
    response = slack_error(lambda: slack.reactions_add(channel=ALERTS, timestamp=ts, name="eyes"))
    assert response["error"] == "already_reacted"
    stored = emu.message(ALERTS, ts)
    assert stored is not None
    assert stored.reactions == {"eyes": ["U0SEAWALLBOT"]}


def test_reactions_add_on_a_missing_message_answers_message_not_found(slack: WebClient) -> None:
    response = slack_error(
        lambda: slack.reactions_add(channel=ALERTS, timestamp="1.000001", name="eyes")
    )
    assert response["error"] == "message_not_found"


def test_get_permalink_points_at_the_message(slack: WebClient) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    link = slack.chat_getPermalink(channel=ALERTS, message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/{ALERTS}/p{ts.replace('.', '')}")


def test_history_lists_top_level_messages_newest_first(slack: WebClient) -> None:
    first = slack.chat_postMessage(channel=ALERTS, text="one")["ts"]
    slack.chat_postMessage(channel=ALERTS, text="reply", thread_ts=first)
    slack.chat_postMessage(channel=ALERTS, text="two")
    history = slack.conversations_history(channel=ALERTS, limit=1)
    assert [m["text"] for m in history["messages"]] == ["two"]
    assert history["has_more"] is True


def test_async_client_arguments_sent_in_the_query_string_are_read(
    api_url: str, emu: SlackEmulator
) -> None:
    async def scenario() -> tuple[str, str]:
        client = AsyncWebClient(token=TOKEN, base_url=api_url)
        info = await client.users_info(user=ALICE)
        opened = await client.conversations_open(users=BOB)
        return info["user"]["name"], opened["channel"]["id"]

    assert asyncio.run(scenario()) == ("alice", emu.dm_channel(BOB))


def test_on_message_reports_posts_updates_and_replies(slack: WebClient, emu: SlackEmulator) -> None:
    seen: list[tuple[str, str, str]] = []

    def record(channel: str, message: EmulatedMessage, event: str) -> None:
        seen.append((channel, message.text, event))

    emu.on_message = record
    ts = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    slack.chat_update(channel=ALERTS, ts=ts, text="card v2")
    slack.chat_postMessage(channel=ALERTS, text="reply", thread_ts=ts)
    slack_error(lambda: slack.chat_postMessage(channel="C0NOPE", text="lost"))
    assert seen == [
        (ALERTS, "card", "posted"),
        (ALERTS, "card v2", "updated"),
        (ALERTS, "reply", "reply"),
    ]


def test_returned_state_is_a_copy(slack: WebClient, emu: SlackEmulator) -> None:
    slack.chat_postMessage(channel=ALERTS, text="card")
    emu.messages(ALERTS)[0].text = "tampered"
    emu.calls[0].params["text"] = "tampered"
    assert emu.messages(ALERTS)[0].text == "card"
    assert emu.calls[0].params["text"] == "card"


def test_a_failing_on_message_callback_does_not_fail_the_call(
    slack: WebClient, emu: SlackEmulator
) -> None:
    def broken(channel: str, message: EmulatedMessage, event: str) -> None:
        raise RuntimeError("terminal went away")

    emu.on_message = broken
    assert slack.chat_postMessage(channel=ALERTS, text="card")["ok"]
    assert len(emu.messages(ALERTS)) == 1


def test_a_malformed_json_body_answers_invalid_json(
    api_url: str, emu: SlackEmulator, http: httpx.Client
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    answer = http.post(f"{api_url}chat.postMessage", content=b"{nope", headers=headers).json()
    assert answer == {"ok": False, "error": "invalid_json"}


def test_history_pages_with_a_cursor_until_there_is_no_more(slack: WebClient) -> None:
    posted = [slack.chat_postMessage(channel=ALERTS, text=f"m{i}")["ts"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = slack.conversations_history(
            channel=ALERTS, limit=2, **({"cursor": cursor} if cursor else {})
        )
        seen += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(posted))


def test_message_metadata_is_read_back_only_when_asked_for(slack: WebClient) -> None:
    metadata = {"event_type": "seawall_card", "event_payload": {"card_id": "am-1"}}
    slack.chat_postMessage(channel=ALERTS, text="card", metadata=metadata)
    plain = slack.conversations_history(channel=ALERTS)["messages"][0]
    full = slack.conversations_history(channel=ALERTS, include_all_metadata=True)["messages"][0]
    assert "metadata" not in plain
    assert full["metadata"] == metadata


def test_replies_lists_the_parent_then_its_replies_oldest_first(slack: WebClient) -> None:
    parent = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    first = slack.chat_postMessage(channel=ALERTS, text="one", thread_ts=parent)["ts"]
    slack.chat_postMessage(channel=ALERTS, text="two", thread_ts=parent)
    thread = slack.conversations_replies(channel=ALERTS, ts=first)["messages"]
    assert [m["text"] for m in thread] == ["card", "one", "two"]
