"""The incident summary card, timeline messages and the incident line on triage cards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cards.common import ActionId
from bot.cards.incident import DECLARE_CALLBACK, TITLE_MAX, declare_view, timeline_message
from bot.cards.render import render
from bot.emulator.blocks import validate_blocks, validate_view
from bot.models.alert import AlertGroup
from bot.models.card import TriageCard
from bot.models.incident import Incident, IncidentLink, LinkedAlert
from bot.models.sentry import SentryIssue
from bot.models.timeline import TimelineEntry

NOW = datetime(2026, 11, 23, 14, 2, tzinfo=UTC)
HOSTILE = "<!channel> <@U0EVIL> <https://evil.example|click> & *bold*\n`code`"


def incident(**overrides: Any) -> Incident:
    values: dict[str, Any] = {
        "incident_id": "20261123-db-down",
        "title": "DB down",
        "severity": "sev1",
        "channel": "C00000001",
        "channel_name": "inc-20261123-db-down",
        "declared_by": "U0ALICE",
        "declared_at": NOW,
    }
    values.update(overrides)
    return Incident(**values)


def card_of(subject: Incident | AlertGroup, **extra: Any) -> TriageCard:
    return TriageCard(
        card_id="incident-x",
        channel="C00000001",
        subject=subject,
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def blocks_of(card: TriageCard) -> list[dict[str, Any]]:
    return [b.to_dict() for b in render(card, NOW).blocks]


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_an_open_incident_shows_severity_status_title_and_who_declared_it() -> None:
    blocks = blocks_of(card_of(incident()))
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🔴 SEV1 · OPEN · DB down", "emoji": True},
    }
    text = text_of(blocks)
    assert "*Declared by*\\n<@U0ALICE> · <!date^" in text
    assert "How to use this channel" in text
    assert validate_blocks(blocks) == []


def test_a_resolved_incident_shows_who_resolved_it_and_how_long_it_lasted() -> None:
    resolved = incident(
        status="resolved", resolved_by="U0BOB", resolved_at=NOW + timedelta(minutes=65)
    )
    blocks = blocks_of(card_of(resolved))
    assert blocks[0]["text"]["text"] == "🟢 RESOLVED · SEV1 · DB down"
    text = text_of(blocks)
    assert "*Resolved by*\\n<@U0BOB>" in text
    assert "*Duration*\\n1 h 05 min" in text


def test_linked_alerts_link_to_their_cards_and_untrusted_titles_stay_inert() -> None:
    subject = incident()
    subject.link_alert(
        LinkedAlert(card_id="am-1", title=HOSTILE, url="https://x.slack.com/archives/C1/p1")
    )
    subject.link_alert(LinkedAlert(card_id="am-2", title="NoLink", url="javascript:alert(1)"))
    text = text_of(blocks_of(card_of(subject)))
    assert "<https://x.slack.com/archives/C1/p1|&lt;!channel&gt; &lt;@U0EVIL&gt;" in text
    assert "<!channel>" not in text
    assert "<@U0EVIL>" not in text
    assert "• NoLink" in text
    assert "javascript" not in text


def test_a_card_at_every_limit_is_still_accepted_by_slack() -> None:
    subject = incident(title="x" * 500)
    for i in range(40):
        subject.link_alert(LinkedAlert(card_id=f"am-{i}", title="<&>" * 400, url=None))
    subject.run_ids = [f"run-{i}" * 20 for i in range(30)]
    card = card_of(subject)
    for _ in range(10):
        card.add_note("n" * 3000, NOW)
    blocks = blocks_of(card)
    assert validate_blocks(blocks) == []
    assert "…and 30 more" in text_of(blocks)
    assert len(render(card, NOW).text) <= 3000


def test_the_header_is_plain_text_so_a_hostile_title_is_shown_as_typed() -> None:
    blocks = blocks_of(card_of(incident(title="<!here> down")))
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "🔴 SEV1 · OPEN · <!here> down",
        "emoji": True,
    }
    assert "&lt;!here&gt; down" in render(card_of(incident(title="<!here> down")), NOW).text


def entry(n: int, text: str = "step", actor: str | None = "U0BOB") -> TimelineEntry:
    return TimelineEntry(at=NOW + timedelta(minutes=n), kind="message", text=text, actor=actor)


def test_the_timeline_message_lists_entries_oldest_first_with_who() -> None:
    entries = [entry(1, "first"), entry(2, "second", actor="seawall"), entry(3, "third", None)]
    message = timeline_message(incident(), entries)
    text = text_of([b.to_dict() for b in message.blocks])
    assert text.index("first") < text.index("second") < text.index("third")
    assert "<@U0BOB> · first" in text
    assert "seawall · second" in text
    assert "Seawall · third" in text


def test_thirty_long_hostile_entries_fit_slacks_limits_and_stay_escaped() -> None:
    entries = [entry(i, HOSTILE * 50, actor="<@U0EVIL>") for i in range(30)]
    blocks = [b.to_dict() for b in timeline_message(incident(), entries).blocks]
    assert validate_blocks(blocks) == []
    text = text_of(blocks)
    assert "<!channel>" not in text
    assert "<@U0EVIL>" not in text
    assert text.count("💬") == 30


def test_an_empty_timeline_says_so() -> None:
    blocks = [b.to_dict() for b in timeline_message(incident(), []).blocks]
    assert "No timeline entries yet" in text_of(blocks)


def alert_card(**extra: Any) -> TriageCard:
    group = AlertGroup(group_key="g", common_labels={"alertname": "ReplicaLag"})
    return TriageCard(
        card_id="am-1", channel="C0ALERTS", subject=group, created_at=NOW, updated_at=NOW, **extra
    )


def test_a_triage_card_linked_to_an_incident_says_so_and_offers_no_second_declaration() -> None:
    link = IncidentLink(
        incident_id="20261123-replicalag", channel="C00000002", declared_by="U0BOB", declared_at=NOW
    )
    blocks = blocks_of(alert_card(incident=link))
    text = text_of(blocks)
    assert "🚨 Incident <#C00000002> declared by <@U0BOB> at <!date^" in text
    assert ActionId.DECLARE_INCIDENT.value not in text
    assert ActionId.DECLARE_INCIDENT.value in text_of(blocks_of(alert_card()))


def test_a_sentry_card_linked_to_an_incident_says_so() -> None:
    issue = SentryIssue(issue_id="42", title="KeyError in checkout")
    link = IncidentLink(
        incident_id="20261123-keyerror", channel="C00000003", declared_by="U0ALICE", declared_at=NOW
    )
    card = TriageCard(
        card_id="sentry-issue-42",
        channel="C0ALERTS",
        subject=issue,
        incident=link,
        created_at=NOW,
        updated_at=NOW,
    )
    blocks = blocks_of(card)
    assert "Incident <#C00000003> declared by <@U0ALICE>" in text_of(blocks)
    assert validate_blocks(blocks) == []


def test_the_declare_form_is_a_valid_modal_prefilled_with_the_cards_title() -> None:
    view = declare_view("am-1", "ReplicaLag on db-2\n\u202e<!channel> " + "x" * 300)
    assert validate_view(view) == []
    assert view["callback_id"] == DECLARE_CALLBACK
    assert view["private_metadata"] == "am-1"
    title = view["blocks"][1]["element"]["initial_value"]
    assert title.startswith("ReplicaLag on db-2 <!channel> xxx")  # plain text: shown as typed
    assert "\u202e" not in title
    assert len(title) <= TITLE_MAX
    severities = [o["value"] for o in view["blocks"][2]["element"]["options"]]
    assert severities == ["sev1", "sev2", "sev3", "sev4"]
    assert view["blocks"][2]["element"]["initial_option"]["value"] == "sev2"
