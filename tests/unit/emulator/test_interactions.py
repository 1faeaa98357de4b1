"""trigger_ids for views.open and response_urls: Slack's expiry and use limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator

from .live_server import LiveServer
from .scenario import ALERTS, ALICE, Clocks

MODAL = {
    "type": "modal",
    "callback_id": "silence",
    "title": {"type": "plain_text", "text": "Silence alert"},
    "submit": {"type": "plain_text", "text": "Silence"},
    "blocks": [
        {
            "type": "input",
            "block_id": "duration",
            "label": {"type": "plain_text", "text": "For how long?"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def views_open_error(slack: WebClient, trigger_id: str, view: dict[str, Any] = MODAL) -> Any:
    with pytest.raises(SlackApiError) as raised:
        slack.views_open(trigger_id=trigger_id, view=view)
    return raised.value.response


def test_views_open_accepts_a_fresh_trigger_id(slack: WebClient, emu: SlackEmulator) -> None:
    view = slack.views_open(trigger_id=emu.issue_trigger_id(), view=MODAL)["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "silence"
    assert emu.views[0]["id"] == view["id"]


def test_views_open_with_a_trigger_older_than_3_seconds_answers_expired_trigger_id(
    slack: WebClient, emu: SlackEmulator, clocks: Clocks
) -> None:
    trigger_id = emu.issue_trigger_id()
    clocks.monotonic.advance(3.0)
    assert views_open_error(slack, trigger_id)["error"] == "expired_trigger_id"


def test_views_open_twice_with_one_trigger_answers_exchanged_trigger_id(
    slack: WebClient, emu: SlackEmulator
) -> None:
    trigger_id = emu.issue_trigger_id()
    slack.views_open(trigger_id=trigger_id, view=MODAL)
    assert views_open_error(slack, trigger_id)["error"] == "exchanged_trigger_id"


def test_views_open_with_an_unknown_trigger_answers_invalid_trigger_id(slack: WebClient) -> None:
    assert views_open_error(slack, "123.456.abc")["error"] == "invalid_trigger_id"


def test_views_open_with_a_title_over_24_characters_answers_invalid_arguments(
    slack: WebClient, emu: SlackEmulator, http: httpx.Client
) -> None:
    view = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    response = views_open_error(slack, emu.issue_trigger_id(), view)
    assert response["error"] == "invalid_arguments"
    assert response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def post_to(http: httpx.Client, url: str, body: dict[str, Any]) -> httpx.Response:
    return http.post(url, json=body)


def test_an_ephemeral_response_url_post_is_recorded_for_the_user(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE)
    response = post_to(http, url, {"text": "Silenced for 1h", "response_type": "ephemeral"})
    assert (response.status_code, response.text) == (200, "ok")
    [ephemeral] = emu.ephemerals
    assert (ephemeral.user, ephemeral.text, ephemeral.source) == (
        ALICE,
        "Silenced for 1h",
        "response_url",
    )
    assert emu.messages(ALERTS) == []
    assert emu.calls_to("response_url")[0].params["text"] == "Silenced for 1h"


def test_an_in_channel_response_url_post_appears_in_the_channel(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE)
    post_to(http, url, {"text": "Incident declared", "response_type": "in_channel"})
    assert [m.text for m in emu.messages(ALERTS)] == ["Incident declared"]


def test_replace_original_replaces_the_clicked_message(
    slack: WebClient, emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="firing", blocks=[{"type": "divider"}])["ts"]
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE, message_ts=ts)
    post_to(http, url, {"replace_original": True, "text": "acked by alice"})
    stored = emu.message(ALERTS, ts)
    assert stored is not None
    assert (stored.text, stored.blocks, stored.edits) == ("acked by alice", [], 1)


def test_delete_original_removes_the_clicked_message(
    slack: WebClient, emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="firing")["ts"]
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE, message_ts=ts)
    assert post_to(http, url, {"delete_original": "true"}).status_code == 200
    assert emu.messages(ALERTS) == []
    assert emu.message(ALERTS, ts) is None


def test_a_response_url_works_five_times_then_answers_404(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE)
    statuses = [post_to(http, url, {"text": f"update {i}"}).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert len(emu.ephemerals) == 5


def test_a_response_url_expires_after_30_minutes(
    emu: SlackEmulator, live_server: LiveServer, clocks: Clocks, http: httpx.Client
) -> None:
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE)
    clocks.monotonic.advance(30 * 60 + 1)
    response = post_to(http, url, {"text": "too late"})
    assert (response.status_code, response.text) == (404, "expired_url")


def test_a_response_url_post_with_invalid_blocks_is_refused(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE)
    response = post_to(http, url, {"text": "x", "blocks": [{"type": "carousel"}]})
    assert (response.status_code, response.text) == (400, "invalid_blocks")
    assert emu.ephemerals == []


def test_trigger_ids_and_response_urls_can_be_issued_over_http(
    slack: WebClient, emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    trigger_id = http.post(f"{live_server.url}/_emulator/trigger_ids").json()["trigger_id"]
    assert slack.views_open(trigger_id=trigger_id, view=MODAL)["ok"]
    body = {"channel_id": ALERTS, "user_id": ALICE}
    url = http.post(f"{live_server.url}/_emulator/response_urls", json=body).json()["response_url"]
    assert url.startswith(f"{live_server.url}/_emulator/response_url/")
    assert post_to(http, url, {"text": "hi"}).status_code == 200


def test_views_open_over_250_kb_answers_view_too_large(
    slack: WebClient, emu: SlackEmulator
) -> None:
    view = {**MODAL, "private_metadata": "x" * 260_000}
    assert views_open_error(slack, emu.issue_trigger_id(), view)["error"] == "view_too_large"


def test_delete_original_is_reported_to_on_message(
    slack: WebClient, emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="firing")["ts"]
    events: list[str] = []
    emu.on_message = lambda channel, message, event: events.append(f"{event} {message.ts}")
    url = emu.issue_response_url(live_server.url, ALERTS, ALICE, message_ts=ts)
    post_to(http, url, {"delete_original": True})
    assert events == [f"deleted {ts}"]
