"""dnd.info and users.getPresence: what Slack tells a bot about whether a push will wake
someone (and what it does not: a manual snooze)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import EmulatedUser, SlackEmulator

from .scenario import ALICE, BOB


def test_dnd_info_reports_a_users_dnd_window(make_emulator: Any, slack: WebClient) -> None:
    make_emulator(
        rate_limits_enabled=False,
        users={ALICE: EmulatedUser(name="alice", dnd=(1_700_000_000.0, 1_700_030_000.0))},
    )
    answer = slack.dnd_info(user=ALICE)
    assert answer["dnd_enabled"] is True
    assert (answer["next_dnd_start_ts"], answer["next_dnd_end_ts"]) == (
        1_700_000_000,
        1_700_030_000,
    )
    assert "snooze_enabled" not in answer.data


def test_dnd_info_hides_someone_elses_snooze(make_emulator: Any, slack: WebClient) -> None:
    make_emulator(
        rate_limits_enabled=False, users={ALICE: EmulatedUser(name="alice", snoozed=True)}
    )
    answer = slack.dnd_info(user=ALICE)
    assert answer["dnd_enabled"] is False
    assert answer["next_dnd_start_ts"] == 1
    assert "snooze_enabled" not in answer.data


def test_without_a_user_dnd_info_describes_the_caller(slack: WebClient) -> None:
    answer = slack.dnd_info()
    assert answer["dnd_enabled"] is False
    assert answer["snooze_enabled"] is False


@pytest.mark.parametrize("method", ["dnd_info", "users_getPresence"])
def test_an_unknown_user_is_user_not_found(slack: WebClient, method: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        getattr(slack, method)(user="U0NOBODY")
    assert raised.value.response["error"] == "user_not_found"


def test_presence_is_active_or_away(make_emulator: Any, slack: WebClient) -> None:
    emu: SlackEmulator = make_emulator(
        rate_limits_enabled=False,
        users={ALICE: EmulatedUser(name="alice", presence="away"), BOB: EmulatedUser(name="bob")},
    )
    assert slack.users_getPresence(user=ALICE)["presence"] == "away"
    assert slack.users_getPresence(user=BOB)["presence"] == "active"
    emu.set_user(BOB, EmulatedUser(name="bob", presence="away"))
    assert slack.users_getPresence(user=BOB)["presence"] == "away"


def test_presence_must_be_active_or_away() -> None:
    with pytest.raises(ValueError, match="presence"):
        EmulatedUser(name="x", presence="busy")


def test_a_stalled_method_answers_late(emu: SlackEmulator, slack: WebClient) -> None:
    emu.stall("auth.test", 0.3)
    started = time.monotonic()
    assert slack.auth_test()["ok"]
    assert time.monotonic() - started >= 0.3
    assert emu.stalls_started == 1
    started = time.monotonic()
    slack.auth_test()
    assert time.monotonic() - started < 0.3  # only the next call was stalled
