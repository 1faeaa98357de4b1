"""The step-back prompt card: what it says, when Confirm shows, Slack's limits, hostile text,
and the late-night maths behind "It's 03:12 for you"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cards.common import ActionId
from bot.cards.prompt import NO_ROLLBACK, typed_confirm_view
from bot.cards.render import render
from bot.core.times import is_late_night, operator_local_time
from bot.emulator.blocks import validate_blocks, validate_view
from bot.models.card import TriageCard
from bot.models.prompt import StepPrompt
from tests.fixtures.step_prompts import NOW, prompt

HOSTILE = "<!channel> <https://evil.example|bank> & <@U1> *bold*"
ZONES = sorted(available_timezones())


def card_of(subject: StepPrompt) -> TriageCard:
    return TriageCard(
        card_id="prompt-r-7f3a-1",
        channel="D0ALICE",
        subject=subject,
        created_at=NOW,
        updated_at=NOW,
    )


def blocks_of(subject: StepPrompt, now: datetime = NOW) -> list[dict[str, Any]]:
    return [b.to_dict() for b in render(card_of(subject), now).blocks]


def text_of(subject: StepPrompt, now: datetime = NOW) -> str:
    return json.dumps(blocks_of(subject, now), ensure_ascii=False)


def button_ids(subject: StepPrompt, now: datetime = NOW) -> list[str]:
    actions = [b for b in blocks_of(subject, now) if b["type"] == "actions"]
    return [e["action_id"] for e in actions[0]["elements"]] if actions else []


def test_the_card_names_the_target_parameters_blast_radius_and_rollback() -> None:
    text = text_of(prompt())
    assert "Drain web-3 from the HAProxy backend" in text
    assert "*Target:* `web-3.prod`" in text
    assert "disk full" in text
    assert "One of six web servers stops taking traffic" in text
    assert "Set web-3.prod back to READY in HAProxy" in text
    assert "step 2 of 3" in text


def test_a_step_without_rollback_says_so_in_plain_words() -> None:
    assert NO_ROLLBACK in text_of(prompt(rollback=None))
    assert "No automatic rollback" in NO_ROLLBACK


def test_late_at_night_the_card_suggests_asking_a_teammate() -> None:
    text = text_of(prompt())
    assert "It's 03:12 (Europe/Paris) for you — consider asking a teammate to look too" in text


def test_in_the_day_the_card_only_gives_the_time() -> None:
    text = text_of(prompt(operator_local_time="14:05 (Europe/Paris)", late_night=False))
    assert "It's 14:05 (Europe/Paris) for you." in text
    assert "teammate" not in text


def test_an_unknown_timezone_is_said_plainly() -> None:
    assert "local time is unknown" in text_of(prompt(operator_local_time=None, late_night=False))


def test_while_waiting_only_cancel_is_offered_and_the_card_says_when_confirm_comes() -> None:
    subject = prompt(state="waiting")
    assert button_ids(subject) == [ActionId.PROMPT_CANCEL]
    assert "Confirm appears at <!date^" in text_of(subject)


def test_once_available_confirm_is_offered_beside_cancel() -> None:
    subject = prompt(state="available", confirm_available_at=NOW)
    assert button_ids(subject) == [ActionId.PROMPT_CONFIRM, ActionId.PROMPT_CANCEL]
    assert "You can confirm now" in text_of(subject)


def test_confirm_stays_hidden_before_its_time_even_if_marked_available() -> None:
    subject = prompt(state="available", confirm_available_at=NOW + timedelta(seconds=5))
    assert button_ids(subject) == [ActionId.PROMPT_CANCEL]


def test_a_high_risk_step_confirms_through_the_typed_name_modal() -> None:
    subject = prompt(state="available", confirm_available_at=NOW, high_risk=True)
    assert button_ids(subject) == [ActionId.PROMPT_CONFIRM_TYPED, ActionId.PROMPT_CANCEL]
    assert "type the target's name" in text_of(subject)


@pytest.mark.parametrize(
    ("state", "phrase"),
    [("confirmed", "Confirmed by <@U0ALICE> at <!date^"), ("cancelled", "Cancelled by <@U0ALICE>")],
)
def test_a_decided_prompt_shows_who_and_when_and_has_no_buttons(state: str, phrase: str) -> None:
    subject = prompt(state=state, decided_by="U0ALICE", decided_at=NOW, confirm_available_at=NOW)
    assert phrase in text_of(subject)
    assert button_ids(subject) == []
    assert "consider asking a teammate" in text_of(subject)  # what they saw stays on record


@pytest.mark.parametrize("state", ["waiting", "available", "confirmed", "cancelled", "expired"])
def test_every_state_renders_within_slack_limits_even_with_huge_text(state: str) -> None:
    huge = "x" * 5000
    subject = prompt(
        state=state,
        step_description=huge,
        step_name=huge,
        target=huge,
        blast_radius=huge,
        rollback=huge,
        playbook=huge,
        params={f"p{i}": huge for i in range(15)},
        decided_by="U0BOB",
        decided_at=NOW,
    )
    message = render(card_of(subject), NOW)
    assert validate_blocks([b.to_dict() for b in message.blocks]) == []
    assert len(message.text) <= 3000


def test_hostile_text_in_the_step_and_parameters_stays_inert() -> None:
    subject = prompt(
        step_description=HOSTILE,
        target=HOSTILE,
        blast_radius=HOSTILE,
        rollback=HOSTILE,
        playbook=HOSTILE,
        params={HOSTILE: HOSTILE},
        operator_local_time=HOSTILE,
    )
    message = render(card_of(subject), NOW)
    blocks = [b.to_dict() for b in message.blocks]
    mrkdwn = [b for b in blocks if b["type"] != "header"]
    for text in (json.dumps(mrkdwn, ensure_ascii=False), message.text):
        assert "<!channel>" not in text
        assert "<https://evil.example" not in text
        assert "<@U1>" not in text
        assert "&lt;!channel&gt;" in text


def test_the_typed_confirm_modal_is_valid_and_asks_for_the_target() -> None:
    view = typed_confirm_view("prompt-r-7f3a-1", prompt(high_risk=True))
    assert validate_view(view) == []
    assert view["private_metadata"] == "prompt-r-7f3a-1"
    assert "Type web-3.prod" in json.dumps(view)


def test_the_typed_confirm_modal_keeps_a_hostile_target_inert() -> None:
    view = typed_confirm_view("prompt-r-7f3a-1", prompt(high_risk=True, target=HOSTILE * 50))
    assert validate_view(view) == []
    section = view["blocks"][0]["text"]["text"]
    assert "<!channel>" not in section


def test_paris_at_three_in_the_morning_is_late_and_new_york_at_nine_pm_is_not() -> None:
    assert operator_local_time(NOW, "Europe/Paris", 22, 7) == ("03:12 (Europe/Paris)", True)
    assert operator_local_time(NOW, "America/New_York", 22, 7) == (
        "21:12 (America/New_York)",
        False,
    )


@pytest.mark.parametrize("tz", [None, "", "Mars/Olympus_Mons", "../etc/passwd", "America"])
def test_a_missing_or_unknown_timezone_gives_no_local_time(tz: str | None) -> None:
    assert operator_local_time(NOW, tz, 22, 7) == (None, False)


def hours_in_window(from_hour: int, until_hour: int) -> set[int]:
    """The window spelled out hour by hour, walking the clock from `from_hour`."""
    hours: set[int] = set()
    hour = from_hour
    while hour != until_hour:
        hours.add(hour)
        hour = (hour + 1) % 24
    return hours


@given(st.integers(0, 23), st.integers(0, 23), st.integers(0, 23))
def test_late_night_is_exactly_the_hours_from_start_up_to_end(
    hour: int, from_hour: int, until_hour: int
) -> None:
    assert is_late_night(hour, from_hour, until_hour) == (
        hour in hours_in_window(from_hour, until_hour)
    )


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(ZONES),
    st.integers(0, 23),
    st.integers(0, 23),
)
def test_the_local_time_shown_is_the_wall_clock_in_the_operators_zone(
    now: datetime, tz: str, from_hour: int, until_hour: int
) -> None:
    text, late = operator_local_time(now, tz, from_hour, until_hour)
    local = now.astimezone(ZoneInfo(tz))
    assert text == f"{local.hour:02d}:{local.minute:02d} ({tz})"
    assert late == (local.hour in hours_in_window(from_hour, until_hour))


def test_the_title_names_what_the_step_does_not_its_id() -> None:
    header = blocks_of(prompt())[0]
    assert header["text"]["text"] == "⚠️ Step back before: Drain web-3 from the HAProxy backend"
    assert "step 2 of 3 (`drain`)" in text_of(prompt())


def test_a_decided_prompt_keeps_the_steps_description_in_its_title() -> None:
    header = blocks_of(prompt(state="confirmed", decided_by="U0ALICE", decided_at=NOW))[0]
    assert header["text"]["text"] == "✅ Confirmed: Drain web-3 from the HAProxy backend"
