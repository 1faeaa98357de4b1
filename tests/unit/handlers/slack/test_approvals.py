"""Reaction events as Slack really sends them: parsed, or ignored when unusable."""

from __future__ import annotations

from typing import Any

from handlers.slack.approvals import parse_reaction


def reaction_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "reaction_added",
        "user": "U0BOB",
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": "C0ALERTS", "ts": "1767326126.896109"},
        "item_user": "U0SEAWALLBOT",
        "event_ts": "1767326140.000700",
    }
    event.update(overrides)
    return event


def test_a_reaction_on_a_message_is_parsed() -> None:
    parsed = parse_reaction(reaction_event())
    assert parsed is not None
    assert (parsed.user, parsed.reaction, parsed.item.ts) == (
        "U0BOB",
        "white_check_mark",
        "1767326126.896109",
    )


def test_a_canonical_name_like_plus_one_is_kept_as_sent() -> None:
    parsed = parse_reaction(reaction_event(reaction="+1"))
    assert parsed is not None
    assert parsed.reaction == "+1"


def test_blank_values_are_ignored() -> None:
    blank = reaction_event(
        type="reaction_removed",
        user="",
        reaction="",
        item={"type": "message", "channel": "", "ts": "0000000000.000000"},
        item_user="",
    )
    assert parse_reaction(blank) is None


def test_a_reaction_on_a_file_is_ignored() -> None:
    assert parse_reaction(reaction_event(item={"type": "file", "file": "F0X"})) is None


def test_extra_fields_and_a_missing_item_user_are_fine() -> None:
    event = reaction_event(event_context="x", is_ext_shared_channel=False)
    del event["item_user"]
    assert parse_reaction(event) is not None
