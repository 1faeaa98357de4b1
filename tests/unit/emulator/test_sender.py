"""SlackSender: requests signed and shaped like Slack's, checked by slack_sdk and by Bolt."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from bot.emulator import SlackEmulator, SlackSender, sign

from .live_server import LiveServer
from .scenario import ALERTS, ALICE, TOKEN

SECRET = "test-signing-secret"
CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*disk full*"}},
    {
        "type": "actions",
        "block_id": "card-actions",
        "elements": [
            {
                "type": "button",
                "action_id": "alert.ack",
                "text": {"type": "plain_text", "text": "Ack"},
                "value": '{"card":"c1"}',
            },
            {
                "type": "button",
                "action_id": "alert.open",
                "text": {"type": "plain_text", "text": "Open"},
            },
        ],
    },
]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid_signature: bool

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.form()["payload"])
        return decoded


@dataclass
class FakeBot:
    """Stands in for Seawall: records what arrives and checks it with slack_sdk's verifier."""

    inbox: list[Received] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        verifier = SignatureVerifier(SECRET)
        valid = verifier.is_valid_request(body, dict(request.headers))
        self.inbox.append(Received(dict(request.headers), body, valid))
        return PlainTextResponse("", status_code=200 if valid else 401)


@pytest.fixture
def bot(emu: SlackEmulator, live_server: LiveServer) -> FakeBot:
    fake = FakeBot()
    live_server.switchboard.target = Starlette(
        routes=[
            Route("/slack/events", fake.endpoint, methods=["POST"]),
            Mount("", app=emu.app),
        ]
    )
    return fake


@pytest.fixture
def sender(emu: SlackEmulator, live_server: LiveServer, bot: FakeBot) -> Iterator[SlackSender]:
    with SlackSender(
        bot_url=f"{live_server.url}/slack/events",
        signing_secret=SECRET,
        emulator_url=live_server.url,
        emulator=emu,
    ) as s:
        yield s


def test_a_slash_command_is_form_encoded_and_signed_like_slack(
    sender: SlackSender, bot: FakeBot
) -> None:
    response = sender.slash_command(
        command="/incident", text="help", user_id=ALICE, channel_id=ALERTS
    )
    assert response.status_code == 200
    [received] = bot.inbox
    assert received.valid_signature
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    form = received.form()
    assert form["command"] == "/incident"
    assert form["text"] == "help"
    assert (form["user_id"], form["user_name"]) == (ALICE, "alice")
    assert (form["channel_id"], form["channel_name"]) == (ALERTS, "alerts")
    assert form["is_enterprise_install"] == "false"
    assert form["team_id"] == "T0SEAWALL"
    assert form["api_app_id"] == "A0SEAWALL"


def test_a_slash_commands_trigger_id_opens_a_modal_once(
    sender: SlackSender, bot: FakeBot, slack: WebClient
) -> None:
    sender.slash_command(command="/incident", text="new", user_id=ALICE, channel_id=ALERTS)
    trigger_id = bot.inbox[0].form()["trigger_id"]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "New incident"}, "blocks": []}
    assert slack.views_open(trigger_id=trigger_id, view=view)["ok"]


def test_a_slash_commands_response_url_reaches_the_emulator(
    sender: SlackSender, bot: FakeBot, emu: SlackEmulator, http: httpx.Client
) -> None:
    sender.slash_command(command="/incident", text="help", user_id=ALICE, channel_id=ALERTS)
    response_url = bot.inbox[0].form()["response_url"]
    assert http.post(response_url, json={"text": "Usage: /incident new"}).status_code == 200
    assert [(e.user, e.text) for e in emu.ephemerals] == [(ALICE, "Usage: /incident new")]


def test_a_block_action_copies_the_stored_message_and_the_buttons_block_and_label(
    sender: SlackSender, bot: FakeBot, slack: WebClient
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="disk full", blocks=CARD)["ts"]
    sender.block_action(
        action_id="alert.ack",
        value='{"card":"c1"}',
        user_id=ALICE,
        channel_id=ALERTS,
        message_ts=ts,
    )
    [received] = bot.inbox
    payload = received.payload()
    assert received.valid_signature
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": ALERTS,
        "is_ephemeral": False,
    }
    assert payload["message"]["blocks"] == CARD
    [action] = payload["actions"]
    assert action["block_id"] == "card-actions"
    assert action["text"]["text"] == "Ack"
    assert action["value"] == '{"card":"c1"}'
    assert payload["user"]["username"] == "alice"


def test_a_block_action_without_a_value_leaves_value_out(
    sender: SlackSender, bot: FakeBot, slack: WebClient
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="disk full", blocks=CARD)["ts"]
    sender.block_action(
        action_id="alert.open", value=None, user_id=ALICE, channel_id=ALERTS, message_ts=ts
    )
    assert "value" not in bot.inbox[0].payload()["actions"][0]


def test_a_block_actions_response_url_can_replace_the_clicked_message(
    sender: SlackSender, bot: FakeBot, slack: WebClient, emu: SlackEmulator, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="disk full", blocks=CARD)["ts"]
    sender.block_action(
        action_id="alert.ack", value="v", user_id=ALICE, channel_id=ALERTS, message_ts=ts
    )
    response_url = bot.inbox[0].payload()["response_url"]
    http.post(response_url, json={"replace_original": "true", "text": "Acked by alice"})
    stored = emu.message(ALERTS, ts)
    assert stored is not None
    assert stored.text == "Acked by alice"


def test_an_event_redelivery_carries_slacks_retry_headers(
    sender: SlackSender, bot: FakeBot
) -> None:
    event = {
        "type": "app_mention",
        "user": ALICE,
        "text": "<@U0SEAWALLBOT> status",
        "channel": ALERTS,
    }
    sender.event(event, event_id="Ev0001", retry_num=1, retry_reason="http_timeout")
    [received] = bot.inbox
    envelope = json.loads(received.body)
    assert received.valid_signature
    assert received.headers["x-slack-retry-num"] == "1"
    assert received.headers["x-slack-retry-reason"] == "http_timeout"
    assert (envelope["type"], envelope["event_id"]) == ("event_callback", "Ev0001")
    assert envelope["event"]["text"] == event["text"]
    assert envelope["authorizations"][0]["user_id"] == "U0SEAWALLBOT"


def test_a_first_delivery_has_no_retry_headers_and_a_fresh_event_id(
    sender: SlackSender, bot: FakeBot
) -> None:
    sender.event({"type": "app_mention", "user": ALICE, "text": "hi", "channel": ALERTS})
    sender.event({"type": "app_mention", "user": ALICE, "text": "hi", "channel": ALERTS})
    first, second = (json.loads(r.body)["event_id"] for r in bot.inbox)
    assert first.startswith("Ev")
    assert first != second
    assert "x-slack-retry-num" not in bot.inbox[0].headers


def test_a_timestamp_older_than_five_minutes_fails_verification(
    sender: SlackSender, bot: FakeBot
) -> None:
    response = sender.slash_command(command="/incident", timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert not bot.inbox[0].valid_signature


def test_a_forged_signing_secret_fails_verification(sender: SlackSender, bot: FakeBot) -> None:
    response = sender.slash_command(command="/incident", signing_secret="not-the-secret")
    assert response.status_code == 401


def test_url_verification_carries_the_challenge(sender: SlackSender, bot: FakeBot) -> None:
    sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    body = json.loads(bot.inbox[0].body)
    assert body["type"] == "url_verification"
    assert body["challenge"].startswith("3eZbrw")


def test_reaction_added_updates_the_message_and_names_its_author(
    sender: SlackSender, bot: FakeBot, slack: WebClient, emu: SlackEmulator
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="disk full")["ts"]
    sender.reaction_added(user=ALICE, reaction="eyes", channel=ALERTS, ts=ts)
    event = json.loads(bot.inbox[0].body)["event"]
    assert event["type"] == "reaction_added"
    assert event["item"] == {"type": "message", "channel": ALERTS, "ts": ts}
    assert event["item_user"] == "U0SEAWALLBOT"
    stored = emu.message(ALERTS, ts)
    assert stored is not None
    assert stored.reactions == {"eyes": [ALICE]}
    sender.reaction_removed(user=ALICE, reaction="eyes", channel=ALERTS, ts=ts)
    assert emu.message(ALERTS, ts).reactions == {}  # type: ignore[union-attr]


def test_a_view_submission_carries_state_values_and_private_metadata(
    sender: SlackSender, bot: FakeBot
) -> None:
    values = {"duration": {"value": {"type": "plain_text_input", "value": "1h"}}}
    sender.view_submission("silence", values, user_id=ALICE, private_metadata='{"card":"c1"}')
    payload = bot.inbox[0].payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "silence"
    assert payload["view"]["state"]["values"] == values
    assert payload["view"]["private_metadata"] == '{"card":"c1"}'


def test_a_sender_that_only_knows_the_emulator_url_still_gets_working_ids(
    emu: SlackEmulator, live_server: LiveServer, bot: FakeBot, slack: WebClient
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="disk full", blocks=CARD)["ts"]
    with SlackSender(
        bot_url=f"{live_server.url}/slack/events",
        signing_secret=SECRET,
        emulator_url=live_server.url,
    ) as remote:
        remote.block_action(
            action_id="alert.ack", value="v", user_id=ALICE, channel_id=ALERTS, message_ts=ts
        )
    payload = bot.inbox[0].payload()
    assert payload["message"]["ts"] == ts
    assert payload["actions"][0]["block_id"] == "card-actions"
    assert slack.views_open(
        trigger_id=payload["trigger_id"],
        view={"type": "modal", "title": {"type": "plain_text", "text": "Ack"}, "blocks": []},
    )["ok"]


@given(body=st.text(max_size=200), timestamp=st.integers(min_value=0, max_value=2**31))
def test_sign_agrees_with_slack_sdks_signature_verifier(body: str, timestamp: int) -> None:
    verifier = SignatureVerifier(SECRET)
    expected = verifier.generate_signature(timestamp=str(timestamp), body=body)
    assert sign(body.encode(), timestamp, SECRET) == expected


@pytest.fixture
def bolt_app(emu: SlackEmulator, live_server: LiveServer) -> AsyncApp:
    """A real Bolt app, served next to the emulator it calls."""
    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=f"{live_server.url}/api/"),
        signing_secret=SECRET,
        # The listener finishes before the HTTP answer, so tests need no polling.
        process_before_response=True,
    )
    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        response: Response = await handler.handle(request)
        return response

    live_server.switchboard.target = Starlette(
        routes=[Route("/slack/events", endpoint, methods=["POST"]), Mount("", app=emu.app)]
    )
    return app


def test_bolt_accepts_the_senders_slash_command_and_its_respond_reaches_the_emulator(
    bolt_app: AsyncApp, emu: SlackEmulator, live_server: LiveServer
) -> None:
    @bolt_app.command("/incident")
    async def incident(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack()
        await respond(f"You asked for {command['text']}")

    with SlackSender(f"{live_server.url}/slack/events", SECRET, live_server.url, emu) as s:
        response = s.slash_command(
            command="/incident", text="help", user_id=ALICE, channel_id=ALERTS
        )
    assert response.status_code == 200
    assert [e.text for e in emu.ephemerals] == ["You asked for help"]
    assert [c.method for c in emu.calls] == ["auth.test", "response_url"]


def test_bolt_handles_the_senders_button_click_and_updates_the_card(
    bolt_app: AsyncApp, emu: SlackEmulator, live_server: LiveServer, slack: WebClient
) -> None:
    @bolt_app.action("alert.ack")
    async def ack_alert(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"Acked by <@{body['user']['id']}>",
            blocks=[],
        )

    ts = slack.chat_postMessage(channel=ALERTS, text="disk full", blocks=CARD)["ts"]
    with SlackSender(f"{live_server.url}/slack/events", SECRET, live_server.url, emu) as s:
        s.block_action(
            action_id="alert.ack", value="v", user_id=ALICE, channel_id=ALERTS, message_ts=ts
        )
    stored = emu.message(ALERTS, ts)
    assert stored is not None
    assert (stored.text, stored.blocks, stored.edits) == (f"Acked by <@{ALICE}>", [], 1)
