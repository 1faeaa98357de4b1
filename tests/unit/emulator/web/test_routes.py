"""The browser view's routes over real HTTP, without a browser and without an app: what the
page shows to whom, and what happens when nobody is there to receive a click."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient

from bot.emulator import SlackEmulator
from tests.unit.emulator.conftest import EmulatorFactory
from tests.unit.emulator.live_server import LiveServer
from tests.unit.emulator.scenario import ALERTS, ALICE, BOB, TOKEN

BUTTON = [
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
        ],
    }
]
JSON = {"Accept": "application/json"}


@pytest.fixture
def emu(make_emulator: EmulatorFactory) -> SlackEmulator:
    return make_emulator(rate_limits_enabled=False)


@pytest.fixture
def slack(live_server: LiveServer, emu: SlackEmulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=f"{live_server.url}/api/")


def page_as(http: httpx.Client, live_server: LiveServer, query: str) -> str:
    response = http.get(f"{live_server.url}/?{query}")
    assert response.status_code == 200
    return response.text


def test_the_page_lists_the_channels_and_only_the_viewers_own_dm(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    page = http.get(f"{live_server.url}/?as={ALICE}").text
    assert "#alerts" in page
    assert "#database" in page
    assert f"c={emu.dm_channel(ALICE)}" in page
    assert f"c={emu.dm_channel(BOB)}" not in page
    # Asking for Bob's DM as Alice shows her the first channel instead.
    assert "<h2>#alerts</h2>" in page_as(http, live_server, f"as={ALICE}&c={emu.dm_channel(BOB)}")


def test_hostile_text_is_shown_as_text_under_a_strict_content_security_policy(
    slack: WebClient, live_server: LiveServer, http: httpx.Client
) -> None:
    # Raw angle brackets are Slack's own syntax (links); escaped ones are text to show.
    slack.chat_postMessage(channel=ALERTS, text='<script>alert(1)</script> "><img src=x>')
    slack.chat_postMessage(channel=ALERTS, text="&lt;script&gt;alert(2)&lt;/script&gt; &quot;")
    response = http.get(f"{live_server.url}/?as={ALICE}")
    assert "<script>alert" not in response.text
    assert "<img" not in response.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt; &amp;quot;" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_a_click_with_no_app_connected_tells_the_person_and_sends_nothing(
    emu: SlackEmulator, slack: WebClient, live_server: LiveServer, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="card", blocks=BUTTON)["ts"]
    form = {"as": ALICE, "where": f"m:{ALERTS}:{ts}", "el": "0.0"}
    answer = http.post(f"{live_server.url}/_web/act", data=form, headers=JSON)
    assert answer.json() == {"ok": True}
    assert "no app is connected" in page_as(http, live_server, f"as={ALICE}")
    assert "no app is connected" not in page_as(http, live_server, f"as={BOB}")


def test_a_control_that_is_gone_is_said_to_be_gone(
    slack: WebClient, live_server: LiveServer, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="card", blocks=BUTTON)["ts"]
    form = {"as": ALICE, "where": f"m:{ALERTS}:{ts}", "el": "0.7"}
    http.post(f"{live_server.url}/_web/act", data=form, headers=JSON)
    assert "not there any more" in page_as(http, live_server, f"as={ALICE}")


def test_a_form_posted_from_another_site_is_refused(
    emu: SlackEmulator, slack: WebClient, live_server: LiveServer, http: httpx.Client
) -> None:
    ts = slack.chat_postMessage(channel=ALERTS, text="card", blocks=BUTTON)["ts"]
    form = {"as": ALICE, "where": f"m:{ALERTS}:{ts}", "react": "eyes"}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = http.post(f"{live_server.url}/_web/react", data=form, headers=headers)
        assert answer.status_code == 403
    assert emu.messages(ALERTS)[0].reactions == {}


def test_without_javascript_a_form_redirects_back_but_never_off_the_emulator(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    back = f"/?as={BOB}&c={ALERTS}"
    for given, expected in ((back, back), ("//evil.example/x", "/"), ("https://e.x/", "/")):
        form = {"as": BOB, "c": ALERTS, "text": "hello", "back": given}
        answer = http.post(f"{live_server.url}/_web/say", data=form)
        assert answer.status_code == 303
        assert answer.headers["location"] == expected


def test_a_person_can_post_and_react_even_with_no_app_listening(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    http.post(f"{live_server.url}/_web/say", data={"as": BOB, "c": ALERTS, "text": "on it"})
    [message] = emu.messages(ALERTS)
    assert (message.user, message.text) == (BOB, "on it")
    where = f"m:{ALERTS}:{message.ts}"
    http.post(f"{live_server.url}/_web/react", data={"as": ALICE, "where": where, "react": "+1"})
    assert emu.messages(ALERTS)[0].reactions == {"+1": [ALICE]}
    http.post(f"{live_server.url}/_web/react", data={"as": ALICE, "where": where, "react": "+1"})
    assert emu.messages(ALERTS)[0].reactions == {}


def test_the_change_counter_moves_when_the_emulator_changes(
    slack: WebClient, live_server: LiveServer, http: httpx.Client
) -> None:
    before = http.get(f"{live_server.url}/_web/changes").json()["v"]
    slack.chat_postMessage(channel=ALERTS, text="news")
    assert http.get(f"{live_server.url}/_web/changes").json()["v"] != before


def test_the_script_and_stylesheet_come_from_the_package(
    emu: SlackEmulator, live_server: LiveServer, http: httpx.Client
) -> None:
    script = http.get(f"{live_server.url}/_web/static/page.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/_web/changes" in script.text
    assert http.get(f"{live_server.url}/_web/static/page.css").status_code == 200
    assert http.get(f"{live_server.url}/_web/static/../app.py").status_code == 404
