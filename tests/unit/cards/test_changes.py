""" "Changed recently" on cards: who, when and a link, escaped, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.change import Change
from tests.fixtures.alertmanager_payloads import group_payload
from tests.unit.cards.test_alert_group import blocks_of, card_for

AT = datetime(2026, 11, 30, 2, 40, tzinfo=UTC)


def change(**overrides: object) -> Change:
    values: dict[str, object] = {
        "change_id": "c1",
        "summary": "checkout v2.4.1",
        "at": AT,
        "source": "webhook",
        "service": "checkout",
        "environment": "prod",
        "url": "https://ci.example.com/runs/42",
        "author": "alice",
    }
    values.update(overrides)
    return Change.model_validate(values)


def test_a_card_without_changes_says_nothing_about_them() -> None:
    assert "Changed recently" not in json.dumps(blocks_of(card_for(group_payload("Disk"))))


def test_a_matched_change_shows_what_who_when_and_its_link() -> None:
    card = card_for(group_payload("Disk"))
    card.changes, card.changes_matched = [change()], True
    text = json.dumps(blocks_of(card))
    assert "*Changed recently*, before it started:" in text
    assert "<https://ci.example.com/runs/42|checkout v2.4.1>" in text
    assert "checkout \\u00b7 prod \\u00b7 by alice" in text
    assert f"<!date^{int(AT.timestamp())}^" in text


def test_change_text_from_outside_is_escaped_and_a_bad_url_is_no_link() -> None:
    card = card_for(group_payload("Disk"))
    card.changes = [change(summary="<!channel> *Approved by* <@U1>", url="javascript:alert(1)")]
    text = json.dumps(blocks_of(card))
    assert "&lt;!channel&gt;" in text
    assert "<!channel>" not in text
    assert "javascript" not in text


def test_many_long_changes_stay_within_slack_s_limits() -> None:
    card = card_for(group_payload("Disk"))
    card.changes = [
        change(change_id=f"c{n}", summary="x" * 900, at=AT - timedelta(minutes=n)) for n in range(5)
    ]
    blocks = render(card, AT).blocks
    assert validate_blocks([b.to_dict() for b in blocks]) == []
