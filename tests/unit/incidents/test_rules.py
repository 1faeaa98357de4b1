"""Incident ids and channel names: whatever the title, Slack accepts the channel name."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.core.times import duration_text
from bot.emulator.conversation_methods import name_error
from bot.incidents.channels import MAX_NAME_ATTEMPTS
from bot.incidents.rules import (
    SLUG_MAX,
    VALID_CHANNEL_NAME,
    channel_name_for,
    incident_id_for,
    slugify,
)

DAY = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)


def test_a_plain_title_becomes_a_dated_lowercase_channel_name() -> None:
    assert channel_name_for(incident_id_for("DB down", DAY)) == "inc-20261123-db-down"


def test_later_attempts_get_a_numbered_suffix() -> None:
    assert incident_id_for("DB down", DAY, 2) == "20261123-db-down-2"
    assert incident_id_for("DB down", DAY, 1) == "20261123-db-down"


def test_punctuation_and_spaces_collapse_into_single_hyphens() -> None:
    assert slugify("  Payments: API 5xx!!  (EU) ") == "payments-api-5xx-eu"


def test_accents_are_kept_as_their_letters() -> None:
    assert slugify("Dépôt Ünïcode café") == "depot-unicode-cafe"


def test_a_title_without_letters_or_digits_gets_a_generic_slug() -> None:
    assert slugify("🔥🔥🔥") == "incident"
    assert slugify("数据库宕机") == "incident"


def test_a_long_title_is_cut_without_a_trailing_hyphen() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= SLUG_MAX
    assert not slug.endswith("-")


@given(st.text(max_size=300), st.integers(min_value=1, max_value=MAX_NAME_ATTEMPTS))
def test_any_title_gives_a_channel_name_slack_accepts(title: str, attempt: int) -> None:
    name = channel_name_for(incident_id_for(title, DAY, attempt))
    assert VALID_CHANNEL_NAME.match(name), name
    assert len(name) <= 80
    assert name_error(name) is None  # the emulator applies Slack's rules


@given(st.text(max_size=300))
def test_the_slug_is_stable_and_never_empty(title: str) -> None:
    assert slugify(title) == slugify(title)
    assert slugify(title)


def test_durations_read_like_a_person_would_say_them() -> None:
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert duration_text(start, start.replace(second=40)) == "40 s"
    assert duration_text(start, start.replace(minute=12)) == "12 min"
    assert duration_text(start, start.replace(hour=12, minute=5)) == "2 h 05 min"
    assert duration_text(start, datetime(2026, 11, 26, 13, 0, tzinfo=UTC)) == "3 d 3 h"
    assert duration_text(start, start.replace(hour=9)) == "0 s"
