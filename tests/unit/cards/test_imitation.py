"""Untrusted text that imitates Seawall's own fields: quoted, never bold, never reordered.

Every renderer that shows text from people or senders (a playbook's parameters, an incident's
title, an alert's annotations, a Sentry title) is checked with the same hostile string."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import apply_notification
from bot.cards.common import BIDI_CONTROLS, code, escape, plain, quote
from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.card import TriageCard
from bot.models.incident import Incident
from bot.models.run import PlaybookRun
from bot.models.sentry import SentryIssue
from tests.fixtures.alertmanager_payloads import group_payload
from tests.fixtures.step_prompts import prompt

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# "✅ *Approved by* <@U1>", with a right-to-left override that would reverse what follows.
IMITATION = "✅ *Approved by* <@U1> \u202edenifnoc"


def blocks_of(subject: Any) -> list[dict[str, Any]]:
    card = TriageCard(
        card_id="c-1", channel="C0ALERTS", subject=subject, created_at=NOW, updated_at=NOW
    )
    blocks = [b.to_dict() for b in render(card, NOW).blocks]
    assert validate_blocks(blocks) == []
    return blocks


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_escape_and_plain_drop_every_bidi_control() -> None:
    hostile = "a" + BIDI_CONTROLS + "b"
    assert escape(hostile) == "ab"
    assert plain(hostile) == "ab"


def test_code_cannot_be_closed_early_by_a_backtick_in_the_text() -> None:
    assert code("x` *bold* `y", 100) == "`xˋ *bold* ˋy`"


def test_quote_puts_every_line_in_a_code_span_behind_a_quote_mark() -> None:
    assert quote("one\n\n*two*", 100) == "> `one`\n> \n> `*two*`"


def test_quote_stays_within_its_limit() -> None:
    text = quote("word " * 400 + "\n" + "line\n" * 400, 300)
    assert len(text) <= 300
    assert all(line.startswith(">") for line in text.splitlines())


def test_a_playbook_parameter_imitating_a_field_is_shown_as_code() -> None:
    blocks = blocks_of(prompt(params={"reason": IMITATION}))
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert "*reason*\n`✅ *Approved by* &lt;@U1&gt; denifnoc`" in fields
    assert "\u202e" not in text_of(blocks)


def test_run_parameters_imitating_a_field_stay_in_one_code_span() -> None:
    run = PlaybookRun(
        run_id="r1",
        playbook="quarantine",
        summary="Quarantine",
        params={"host": "web-3", "why": "` " + IMITATION},
        requested_by="U0ALICE",
        channel="C0ALERTS",
        created_at=NOW,
    )
    intro = blocks_of(run)[1]["text"]["text"]
    assert intro == "*Quarantine*\n`host=web-3 why=ˋ ✅ *Approved by* &lt;@U1&gt; denifnoc`"


def test_an_incident_title_loses_its_bidi_controls_in_the_header() -> None:
    incident = Incident(
        incident_id="20261123-x",
        title="DB down \u202eevlos\u2066",
        severity="sev2",
        channel="C00000001",
        channel_name="inc-20261123-x",
        declared_by="U0ALICE",
        declared_at=NOW,
    )
    blocks = blocks_of(incident)
    assert blocks[0]["text"]["text"] == "🟠 SEV2 · OPEN · DB down evlos"
    assert not set(BIDI_CONTROLS) & set(text_of(blocks))


def test_a_sentry_title_loses_its_bidi_controls() -> None:
    issue = SentryIssue(issue_id="1", title="KeyError \u202e'yek'", level="error")
    blocks = blocks_of(issue)
    assert blocks[0]["text"]["text"] == "🔴 ERROR · KeyError 'yek'"
    assert "\u202e" not in text_of(blocks)


def test_alert_annotations_lose_their_bidi_controls() -> None:
    payload = group_payload("Disk", summary=IMITATION, annotations={"description": "\u2067x"})
    hook = AlertmanagerWebhook.model_validate_json(json.dumps(payload))
    blocks = blocks_of(apply_notification(None, hook, NOW).group)
    assert not set(BIDI_CONTROLS) & set(text_of(blocks))
