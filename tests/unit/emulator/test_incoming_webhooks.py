"""Incoming webhooks (POST /services/T/B/X): what Alertmanager's Slack receiver talks to."""

from __future__ import annotations

import json
from typing import Any

import httpx
from slack_sdk import WebClient

from bot.emulator import SlackEmulator

from .conftest import EmulatorFactory
from .live_server import LiveServer
from .scenario import ALERTS, DATABASE, TOKEN, Clocks

# What Alertmanager 0.25 sends for a firing alert, trimmed.
ALERTMANAGER_BODY: dict[str, Any] = {
    "channel": "#database",
    "username": "Alertmanager",
    "attachments": [
        {
            "title": "[FIRING:1] DiskFull (warning)",
            "title_link": "http://am:9093/#/alerts?receiver=slack",
            "text": "disk 95% on db1",
            "fallback": "[FIRING:1] DiskFull (warning) | http://am:9093/#/alerts?receiver=slack",
            "callback_id": "",
            "footer": "",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }
    ],
}


def test_a_post_lands_in_the_hooks_channel_and_answers_plain_ok(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    response = http.post(url, json=ALERTMANAGER_BODY)
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers["content-type"].startswith("text/plain")
    # The legacy "channel" field does not redirect the message: the hook's channel wins.
    assert emu.messages(DATABASE) == []
    [message] = emu.messages(ALERTS)
    assert message.attachments[0]["title"] == "[FIRING:1] DiskFull (warning)"


def test_each_post_is_recorded_as_an_incoming_webhook_call(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    http.post(emu.incoming_webhook_url(live_server.url, ALERTS), json={"text": "hello"})
    [call] = emu.calls_to("incoming_webhook")
    assert (call.http_status, call.params, call.token) == (200, {"text": "hello"}, None)


def test_a_form_body_with_the_json_in_payload_is_accepted(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    response = http.post(url, data={"payload": json.dumps({"text": "from curl -d"})})
    assert response.text == "ok"
    assert emu.messages(ALERTS)[0].text == "from curl -d"


def test_an_unknown_hook_answers_404_no_service(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    response = http.post(f"{live_server.url}/services/T0/B0/nope", json={"text": "lost"})
    assert (response.status_code, response.text) == (404, "no_service")


def test_a_body_that_is_not_a_json_object_answers_400_invalid_payload(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    response = http.post(url, content=b"[1, 2", headers={"content-type": "application/json"})
    assert (response.status_code, response.text) == (400, "invalid_payload")


def test_a_message_without_text_blocks_or_attachments_answers_400_no_text(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    response = http.post(url, json={"username": "Alertmanager"})
    assert (response.status_code, response.text) == (400, "no_text")
    assert emu.messages(ALERTS) == []


def test_posting_faster_than_the_channel_allows_answers_429_with_retry_after(
    make_emulator: EmulatorFactory, live_server: LiveServer, http: httpx.Client, clocks: Clocks
) -> None:
    emu = make_emulator()
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    assert http.post(url, json={"text": "first"}).text == "ok"
    refused = http.post(url, json={"text": "second"})
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
    clocks.monotonic.advance(1.0)
    assert http.post(url, json={"text": "third"}).text == "ok"
    assert [m.text for m in emu.messages(ALERTS)] == ["first", "third"]


def test_the_webhook_and_chat_post_message_share_the_channels_limit(
    make_emulator: EmulatorFactory, live_server: LiveServer, http: httpx.Client
) -> None:
    emu = make_emulator()
    WebClient(token=TOKEN, base_url=f"{live_server.url}/api/").chat_postMessage(
        channel=ALERTS, text="from the bot"
    )
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    assert http.post(url, json={"text": "from a webhook"}).status_code == 429
    other = emu.incoming_webhook_url(live_server.url, DATABASE)
    assert http.post(other, json={"text": "another channel"}).text == "ok"


def test_an_injected_fault_answers_the_next_webhook_post(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    emu.inject_fault("incoming_webhook", 500, count=1)
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    assert http.post(url, json={"text": "one"}).status_code == 500
    assert http.post(url, json={"text": "two"}).text == "ok"


def test_reset_forgets_messages_but_keeps_installed_webhooks(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    url = emu.incoming_webhook_url(live_server.url, ALERTS)
    http.post(url, json={"text": "before"})
    emu.reset()
    assert http.post(url, json={"text": "after"}).text == "ok"
    assert [m.text for m in emu.messages(ALERTS)] == ["after"]
