"""Acknowledge-link tokens: signed, bound to a page and a person, expiring (pure part)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.paging.acklink import LinkRefused, make_token, read_token

SECRET = "s" * 40
NOW = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


def test_a_token_reads_back_as_the_page_and_person_it_was_made_for() -> None:
    token, link = make_token(SECRET, "20260303-030000-abc123", "U0ALICE", NOW)
    assert read_token(SECRET, token, NOW + timedelta(minutes=5)) == link
    assert len(token) < 300  # fits a push action comfortably


def test_a_token_expires_after_two_hours() -> None:
    token, _ = make_token(SECRET, "p-1", "U0ALICE", NOW)
    with pytest.raises(LinkRefused) as refused:
        read_token(SECRET, token, NOW + timedelta(hours=2))
    assert refused.value.status == 410


def test_another_secret_refuses_the_token() -> None:
    token, _ = make_token(SECRET, "p-1", "U0ALICE", NOW)
    with pytest.raises(LinkRefused) as refused:
        read_token("t" * 40, token, NOW)
    assert refused.value.status == 404


@given(st.integers(0, 200), st.characters(codec="ascii"))
def test_changing_any_character_of_a_token_refuses_it(position: int, char: str) -> None:
    token, _ = make_token(SECRET, "p-1", "U0ALICE", NOW)
    position %= len(token)
    tampered = token[:position] + char + token[position + 1 :]
    if tampered == token:
        return
    with pytest.raises(LinkRefused):
        read_token(SECRET, tampered, NOW)
