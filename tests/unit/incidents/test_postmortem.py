"""The postmortem skeleton rendered from an incident and its timeline entries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.incidents.postmortem import md, render_postmortem
from bot.models.incident import Incident, LinkedAlert
from bot.models.timeline import TimelineEntry

DECLARED = datetime(2026, 11, 23, 14, 2, 11, tzinfo=UTC)
LATER = DECLARED + timedelta(hours=1, minutes=8)


def incident(**overrides: Any) -> Incident:
    values: dict[str, Any] = {
        "incident_id": "20261123-db-down",
        "title": "DB down",
        "severity": "sev1",
        "channel": "C00000001",
        "channel_name": "inc-20261123-db-down",
        "declared_by": "U0ALICE",
        "declared_at": DECLARED,
        "status": "resolved",
        "resolved_by": "U0BOB",
        "resolved_at": LATER,
    }
    values.update(overrides)
    return Incident(**values)


def at(minutes: int) -> datetime:
    return DECLARED + timedelta(minutes=minutes)


ENTRIES = [
    TimelineEntry(at=at(-4), kind="alert", text="Alert linked: ReplicaLag", actor="U0ALICE"),
    TimelineEntry(
        at=at(0), kind="incident", text="Incident declared: DB down (SEV1)", actor="U0ALICE"
    ),
    TimelineEntry(at=at(5), kind="message", text="failing over to db-2", actor="U0BOB"),
    TimelineEntry(at=at(7), kind="alert", text="Alert resolved: ReplicaLag", actor=None),
    TimelineEntry(at=at(68), kind="incident", text="Incident resolved", actor="U0BOB"),
]


def test_the_header_and_facts_come_first() -> None:
    text = render_postmortem(incident(), ENTRIES, LATER)
    assert text.startswith("# Postmortem: DB down\n\n| | |\n|---|---|\n")
    assert "| Incident | `20261123-db-down` in #inc-20261123-db-down |" in text
    assert "| Severity | SEV1 |" in text
    assert "| Declared | 2026-11-23 14:02 UTC by @U0ALICE |" in text
    assert "| Resolved | 2026-11-23 15:10 UTC by @U0BOB |" in text
    assert "| Duration | 1 h 08 min |" in text


def test_the_timeline_table_has_one_row_per_entry_in_order_with_utc_seconds() -> None:
    text = render_postmortem(incident(), ENTRIES, LATER)
    assert "## Timeline (5 entries, UTC)" in text
    rows = [line for line in text.splitlines() if line.startswith("| 2026-")]
    assert rows == [
        "| 2026-11-23 13:58:11 | alert | @U0ALICE | Alert linked: ReplicaLag |",
        "| 2026-11-23 14:02:11 | incident | @U0ALICE | Incident declared: DB down (SEV1) |",
        "| 2026-11-23 14:07:11 | message | @U0BOB | failing over to db-2 |",
        "| 2026-11-23 14:09:11 | alert | Seawall | Alert resolved: ReplicaLag |",
        "| 2026-11-23 15:10:11 | incident | @U0BOB | Incident resolved |",
    ]


def test_who_did_what_groups_entries_by_person_then_seawall() -> None:
    text = render_postmortem(incident(), ENTRIES, LATER)
    section = text.split("## Who did what")[1].split("## Open questions")[0]
    assert section.index("### @U0ALICE (2 entries)") < section.index("### @U0BOB (2 entries)")
    assert section.index("### @U0BOB") < section.index("### Seawall (1 entry)")
    assert "- 2026-11-23 14:07 · message: failing over to db-2" in section


def test_every_unanswered_part_is_an_open_question() -> None:
    text = render_postmortem(incident(), ENTRIES, LATER)
    questions = text.split("## Open questions")[1]
    for part in (
        "Impact",
        "Root cause",
        "Detection",
        "What went well",
        "What went badly",
        "Follow-ups",
    ):
        assert f"- [ ] **{part}**" in questions
    assert "first alert in the timeline is at 2026-11-23 13:58 UTC" in questions
    assert "Still open" not in questions


def test_an_open_incident_says_it_is_still_open() -> None:
    open_incident = incident(status="open", resolved_by=None, resolved_at=None)
    text = render_postmortem(open_incident, ENTRIES[:3], at(30))
    assert "| Resolved | not yet (open for 30 min when this was generated) |" in text
    assert "- [ ] **Still open**" in text


def test_no_alert_in_the_timeline_asks_whether_monitoring_noticed() -> None:
    text = render_postmortem(incident(), ENTRIES[1:3], LATER)
    assert "No alert is linked to this incident" in text


def test_hostile_text_cannot_break_the_table_or_become_markup() -> None:
    hostile = (
        "a | b\n| --- |\n<script>alert(1)</script> [x](javascript:alert(1)) ![i](http://t) `c`"
    )
    entries = [TimelineEntry(at=at(1), kind="message", text=hostile, actor="U0BOB")]
    subject = incident(title="# <b>title</b> | *x*")
    subject.link_alert(LinkedAlert(card_id="am-1", title="[evil](http://e)"))
    text = render_postmortem(subject, entries, LATER)
    row = next(line for line in text.splitlines() if line.startswith("| 2026-"))
    assert row.count(" | ") == 3  # still four cells: every "|" in the text is escaped
    assert "<script>" not in text
    assert "<b>" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no unescaped "](": no link, no image
    assert text.startswith("# Postmortem: # \\<b\\>title\\</b\\> \\| \\*x\\*\n")


def test_markdown_escaping_keeps_plain_words_readable() -> None:
    assert md("DB down (primary) on db-1.example.net") == "DB down (primary) on db-1.example.net"
    assert md("x" * 2000, 10) == "xxxxxxxxx…"


def test_an_empty_timeline_still_gives_a_usable_skeleton() -> None:
    text = render_postmortem(incident(), [], LATER)
    assert "_The timeline is empty._" in text
    assert "## Follow-ups" in text
