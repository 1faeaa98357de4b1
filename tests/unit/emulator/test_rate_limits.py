"""Rate limits (on a fake clock) and injected faults, as slack_sdk sees them."""

from __future__ import annotations

import asyncio
import types
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.emulator import SlackEmulator
from bot.emulator.ratelimit import RateLimiter

from .scenario import ALERTS, DATABASE, TOKEN, Clocks, FakeClock


def ratelimited(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call()
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    return raised.value


def test_post_message_over_the_channel_limit_answers_429_with_retry_after(
    slack: WebClient, make_emulator: Any
) -> None:
    make_emulator()
    slack.chat_postMessage(channel=ALERTS, text="first")
    error = ratelimited(lambda: slack.chat_postMessage(channel=ALERTS, text="second"))
    assert error.response.headers["Retry-After"] == "1"


def test_the_channel_bucket_refills_as_the_injected_clock_advances(
    slack: WebClient, make_emulator: Any, clocks: Clocks
) -> None:
    make_emulator()
    slack.chat_postMessage(channel=ALERTS, text="first")
    clocks.monotonic.advance(0.5)
    ratelimited(lambda: slack.chat_postMessage(channel=ALERTS, text="too soon"))
    clocks.monotonic.advance(0.5)
    assert slack.chat_postMessage(channel=ALERTS, text="on time")["ok"]


def test_each_channel_has_its_own_post_message_bucket(slack: WebClient, make_emulator: Any) -> None:
    make_emulator()
    slack.chat_postMessage(channel=ALERTS, text="one")
    assert slack.chat_postMessage(channel=DATABASE, text="other channel")["ok"]
    ratelimited(lambda: slack.chat_postMessage(channel="#alerts", text="same channel by name"))


def test_a_larger_burst_lets_that_many_posts_through_at_once(
    slack: WebClient, make_emulator: Any
) -> None:
    make_emulator(post_message_burst=3)
    for i in range(3):
        slack.chat_postMessage(channel=ALERTS, text=str(i))
    ratelimited(lambda: slack.chat_postMessage(channel=ALERTS, text="fourth"))


def test_chat_update_is_limited_per_minute_across_the_workspace(
    slack: WebClient, make_emulator: Any
) -> None:
    make_emulator(method_limits_per_minute={"chat.update": 3})
    ts = slack.chat_postMessage(channel=ALERTS, text="card")["ts"]
    for i in range(3):
        slack.chat_update(channel=ALERTS, ts=ts, text=str(i))
    error = ratelimited(lambda: slack.chat_update(channel=ALERTS, ts=ts, text="fourth"))
    # One token comes back every 20 s at 3/min.
    assert error.response.headers["Retry-After"] == "20"


def test_a_ratelimited_call_is_recorded_with_status_429(
    slack: WebClient, make_emulator: Any
) -> None:
    emu = make_emulator()
    slack.chat_postMessage(channel=ALERTS, text="first")
    ratelimited(lambda: slack.chat_postMessage(channel=ALERTS, text="second"))
    assert [c.http_status for c in emu.calls_to("chat.postMessage")] == [200, 429]
    assert [m.text for m in emu.messages(ALERTS)] == ["first"]


def test_a_fixed_retry_after_overrides_the_computed_wait(
    slack: WebClient, make_emulator: Any
) -> None:
    make_emulator(retry_after_seconds=30)
    slack.chat_postMessage(channel=ALERTS, text="first")
    error = ratelimited(lambda: slack.chat_postMessage(channel=ALERTS, text="second"))
    assert error.response.headers["Retry-After"] == "30"


def test_rate_limits_can_be_switched_off(slack: WebClient, make_emulator: Any) -> None:
    make_emulator(rate_limits_enabled=False)
    for i in range(5):
        slack.chat_postMessage(channel=ALERTS, text=str(i))


def test_a_refused_call_takes_no_token_from_the_other_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        post_message_rate_per_channel=1.0,
        post_message_burst=1,
        method_limits_per_minute={"chat.postMessage": 2},
        clock=clock,
    )
    assert limiter.acquire("chat.postMessage", "C1") is None
    assert limiter.acquire("chat.postMessage", "C1") == 1  # channel bucket empty
    assert limiter.acquire("chat.postMessage", "C2") is None  # workspace bucket still had 1
    assert limiter.acquire("chat.postMessage", "C3") == 30  # now it is empty: 2/min


def test_the_async_rate_limit_retry_handler_waits_out_a_429_and_succeeds(
    api_url: str, make_emulator: Any, clocks: Clocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu: SlackEmulator = make_emulator()
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        # The handler sleeps Retry-After (+ jitter); let the emulator's clock do the waiting.
        slept.append(seconds)
        clocks.monotonic.advance(seconds)
        await real_sleep(0)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=fake_sleep))

    async def scenario() -> str:
        client = AsyncWebClient(token=TOKEN, base_url=api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        await client.chat_postMessage(channel=ALERTS, text="first")
        second = await client.chat_postMessage(channel=ALERTS, text="second")
        return str(second["ts"])

    ts = asyncio.run(scenario())
    assert [c.http_status for c in emu.calls_to("chat.postMessage")] == [200, 429, 200]
    assert len(slept) == 1
    assert slept[0] >= 1
    assert emu.messages(ALERTS)[-1].ts == ts


def test_an_injected_500_answers_internal_error_for_the_next_calls_only(
    slack: WebClient, emu: SlackEmulator
) -> None:
    emu.inject_fault("chat.postMessage", 500, count=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            slack.chat_postMessage(channel=ALERTS, text="x")
        assert raised.value.response.status_code == 500
        assert raised.value.response["error"] == "internal_error"
    assert slack.chat_postMessage(channel=ALERTS, text="x")["ok"]
    assert [c.http_status for c in emu.calls] == [500, 500, 200]


def test_an_injected_429_carries_retry_after(slack: WebClient, emu: SlackEmulator) -> None:
    emu.inject_fault(None, 429, count=1, retry_after=7)
    error = ratelimited(lambda: slack.users_info(user="U0ALICE"))
    assert error.response.headers["Retry-After"] == "7"


def test_a_fault_for_one_method_leaves_the_others_alone(
    slack: WebClient, emu: SlackEmulator
) -> None:
    emu.inject_fault("chat.update", 500, count=1)
    assert slack.chat_postMessage(channel=ALERTS, text="x")["ok"]


def test_a_fault_can_inject_a_logical_error(slack: WebClient, emu: SlackEmulator) -> None:
    emu.inject_fault("chat.postMessage", 200, count=1, error="is_archived")
    with pytest.raises(SlackApiError) as raised:
        slack.chat_postMessage(channel=ALERTS, text="x")
    assert (raised.value.response.status_code, raised.value.response["error"]) == (
        200,
        "is_archived",
    )


def test_faults_and_reset_work_over_http(
    slack: WebClient, emu: SlackEmulator, api_url: str, http: httpx.Client
) -> None:
    base = api_url.removesuffix("/api/")
    slack.chat_postMessage(channel=ALERTS, text="before reset")
    fault = {"method": "auth.test", "status": 503, "count": 1}
    assert http.post(f"{base}/_emulator/faults", json=fault).status_code == 200
    with pytest.raises(SlackApiError) as raised:
        slack.auth_test()
    assert raised.value.response.status_code == 503
    calls = http.get(f"{base}/_emulator/calls").json()
    assert [c["method"] for c in calls] == ["chat.postMessage", "auth.test"]
    messages = http.get(f"{base}/_emulator/channels/{ALERTS}/messages").json()
    assert [m["text"] for m in messages] == ["before reset"]
    assert http.post(f"{base}/_emulator/reset").status_code == 200
    assert emu.calls == []
    assert emu.messages(ALERTS) == []


def test_a_malformed_fault_request_is_refused_with_400(
    emu: SlackEmulator, api_url: str, http: httpx.Client
) -> None:
    base = api_url.removesuffix("/api/")
    assert http.post(f"{base}/_emulator/faults", json={"count": 1}).status_code == 400
