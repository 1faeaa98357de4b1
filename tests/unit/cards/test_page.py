"""Paging cards: the DM with Acknowledge, the channel's alarm, the paging line (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.cards.common import ActionId, CardRef
from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.alert import Alert, AlertGroup, Status
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.page import PagedCard, PageNotice, PagingStatus

NOW = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


def notice(**overrides: Any) -> PageNotice:
    values: dict[str, Any] = {
        "page_id": "p1",
        "recipient": "U0ALICE",
        "state": "open",
        "summary": "DiskFull (critical)",
        "cards": [
            PagedCard(card_id="am-1", title="DiskFull", severity="critical", rank=5,
                      channel="C0ALERTS", source="alertmanager")
        ],
        "total_cards": 1,
        "firing_cards": 1,
        "raised_at": NOW,
    }  # fmt: skip
    values.update(overrides)
    return PageNotice.model_validate(values)


def card(subject: Any, **extra: Any) -> TriageCard:
    return TriageCard(
        card_id="page-p1-U0ALICE",
        channel="D0ALICE",
        subject=subject,
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def blocks(c: TriageCard) -> list[dict[str, Any]]:
    return [b.to_dict() for b in render(c, NOW).blocks]


def buttons(c: TriageCard) -> list[dict[str, Any]]:
    return [e for b in blocks(c) if b["type"] == "actions" for e in b["elements"]]


def test_the_dm_carries_acknowledge_for_this_card() -> None:
    dm = card(notice())
    [ack] = buttons(dm)
    assert ack["action_id"] == ActionId.PAGE_ACK
    assert CardRef.model_validate_json(ack["value"]).c == "page-p1-U0ALICE"
    assert validate_blocks(blocks(dm)) == []
    assert render(dm, NOW).text == "Page: DiskFull (critical)"


def test_an_acknowledged_dm_says_who_and_when_in_the_readers_time_and_loses_its_button() -> None:
    acked = card(notice(state="acked", acked_by="U0BOB", acked_at=NOW, ack_via="push link"))
    text = json.dumps(blocks(acked))
    assert f"Acknowledged by <@U0BOB> at <!date^{int(NOW.timestamp())}^" in text
    assert buttons(acked) == []


def test_the_channel_alarm_mentions_here() -> None:
    alarm = card(notice(recipient=None, state="exhausted", paged=["U0ALICE", "U0CAROL"]))
    message = render(alarm, NOW)
    assert message.text.startswith("<!here>")
    assert "<@U0ALICE>, <@U0CAROL>" in json.dumps(blocks(alarm))


@given(st.text(min_size=1, max_size=300))
def test_untrusted_titles_never_become_mentions_or_links(title: str) -> None:
    hostile = f"<!channel> <@U0BOSS> <https://evil.example|click> {title}"
    entry = PagedCard(card_id="x", title=hostile, rank=5, channel="C0ALERTS",
                      source="alertmanager")  # fmt: skip
    dm = card(notice(summary=hostile, cards=[entry]))
    rendered = blocks(dm)
    assert validate_blocks(rendered) == []
    for block in rendered[1:]:
        assert "<!channel>" not in json.dumps(block)
        assert "<@U0BOSS>" not in json.dumps(block)


def _group_card(paging: PagingStatus) -> TriageCard:
    alert = Alert(fingerprint="f", status=Status.FIRING, starts_at=NOW,
                  labels={"alertname": "DiskFull", "severity": "critical"})  # fmt: skip
    group = AlertGroup(group_key="g", common_labels=dict(alert.labels), alerts={"f": alert})
    return TriageCard(card_id="am-1", channel="C0ALERTS", subject=group, created_at=NOW,
                      updated_at=NOW, paging=paging)  # fmt: skip


def test_a_paging_alert_card_shows_who_is_paged_and_what_comes_next() -> None:
    status = PagingStatus(page_id="p1", state="open", paging=["U0ALICE"], level=1, levels=2,
                          round=1, rounds=3, next_at=NOW + timedelta(minutes=1),
                          next_what="push to <@U0ALICE>")  # fmt: skip
    text = json.dumps(blocks(_group_card(status)), ensure_ascii=False)
    assert (
        "📟 Paging <@U0ALICE> · level 1 of 2 · round 1 of 3 · next: push to <@U0ALICE> at <!date^"
        in text
    )


def test_a_card_shows_the_maintenance_pause() -> None:
    status = PagingStatus(paused_by="U0BOB", paused_until=NOW + timedelta(hours=1))
    text = json.dumps(blocks(_group_card(status)), ensure_ascii=False)
    assert "🔧 Paging paused by <@U0BOB> until <!date^" in text
    assert "wake nobody" in text


def test_the_heartbeat_card_says_what_is_missing_and_what_to_check() -> None:
    alarm = HeartbeatAlarm(name="watchdog", alertname="Watchdog", timeout_s=600,
                           last_seen=NOW, missing_since=NOW + timedelta(minutes=10))  # fmt: skip
    rendered = blocks(card(alarm))
    assert rendered[0]["text"]["text"] == "🔴 MISSING · heartbeat watchdog"
    assert "has not arrived for 10 min" in json.dumps(rendered)
    assert validate_blocks(rendered) == []
