"""The slot cards: what a phone shows first, untrusted text from the database made inert,
and Slack's limits kept however many slots and sessions there are."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.card import Ack, TriageCard
from bot.models.slots import Holder, Level, SlotReport, SlotWatch
from bot.slots.rules import narrow
from tests.fixtures.slots import MB, T0, idle_in_transaction, report, row

HOSTILE = "<@U0ALICE> *Approved by* <!channel> `x`"


def blocks_of(subject: SlotReport | SlotWatch, **card: Any) -> list[dict[str, Any]]:
    made = TriageCard(
        card_id="slotwatch-1", channel="C0ALERTS", subject=subject, created_at=T0, updated_at=T0
    )
    for key, value in card.items():
        setattr(made, key, value)
    blocks = [b.to_dict() for b in render(made, T0).blocks]
    assert validate_blocks(blocks) == []
    return blocks


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_the_report_leads_with_the_sentence_and_the_advice() -> None:
    look = report(row(retained=40 * MB, lag=0, active=True, pid=7), holders=[idle_in_transaction()])
    blocks = blocks_of(look.model_copy(update={"run_id": "ab12", "requested_by": "U0ALICE"}))
    assert blocks[0]["text"]["text"] == "🟠 Replication slots on orders · warning"
    first = blocks[1]["text"]["text"]
    assert first.startswith("*orders_cdc's consumer keeps up")
    assert "\n➡️ Terminate pid 4242" in first
    slot = blocks[2]["text"]["text"]
    assert slot.startswith("🟠 *orders_cdc* · logical (pgoutput) · active, pid 7")
    assert "Retains *40 MB* = *62%* of the 64 MB cap · 24 MB left · reserved" in slot
    holders = blocks[3]["text"]["text"]
    assert "• pid 4242 · *idle in transaction* for 40 min" in holders
    assert "user `report` · app `billing` · `UPDATE accounts SET x = 1`" in holders
    assert "Run `ab12` by <@U0ALICE>" in text_of(blocks)


def test_text_from_the_database_cannot_mention_or_imitate() -> None:
    session = idle_in_transaction().model_copy(
        update={"application": HOSTILE, "user": HOSTILE, "query": HOSTILE * 20}
    )
    consumer = row(retained=MB, active=True, pid=3).model_copy(update={"consumer": HOSTILE})
    text = text_of(blocks_of(report(consumer, holders=[session])))
    assert "<@U0ALICE>" not in text
    assert "<!channel>" not in text
    assert "`&lt;@U0ALICE&gt; *Approved by* &lt;!channel&gt; ˋxˋ&lt;@U0ALICE" in text  # in code
    assert "&lt;!c…`" in text  # names and the query are cut short, never inside an entity


def test_no_cap_is_a_loud_warning_on_the_card() -> None:
    text = text_of(blocks_of(report(row(retained=900 * MB, cap=None), cap=None)))
    assert "⚠️ *max_slot_wal_keep_size is -1 (unlimited)" in text
    assert "max_slot_wal_keep_size -1 (no cap)" in text


def test_many_slots_and_sessions_stay_within_slacks_limits() -> None:
    rows = [row(f"slot_{i:02d}", retained=(i % 70) * MB) for i in range(60)]
    holders = [idle_in_transaction(pid=100 + i) for i in range(30)]
    blocks = blocks_of(report(*rows, holders=holders))
    assert len(blocks) <= 50
    assert "…and 40 more slots, all less urgent." in text_of(blocks)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_a_prepared_transaction_shows_its_name_and_owner() -> None:
    prepared = Holder(gid="tx-9", user="billing", state="prepared", has_xid=True, xact_start=T0)
    text = text_of(blocks_of(report(row(retained=MB), holders=[prepared])))
    assert "• prepared `tx-9` since" in text
    assert "owner `billing`" in text


def watch(**update: Any) -> SlotWatch:
    look = report(row(retained=int(0.85 * 64 * MB)))
    seen = narrow(look, look.slots[0])
    made = SlotWatch(
        database="orders",
        slot="orders_cdc",
        severity=Level.CRITICAL,
        report=seen,
        fired_at=T0 - timedelta(minutes=3),
        checked_at=T0,
        peak_percent=85,
    )
    return made.model_copy(update=update)


def test_a_firing_watch_card_offers_acknowledge_and_an_incident() -> None:
    blocks = blocks_of(watch())
    assert blocks[0]["text"]["text"] == "🔴 Slot orders_cdc on orders · critical"
    text = text_of(blocks)
    assert "severity *critical* · peak 85% of the cap" in text
    assert "Look again: `/playbook slot-lag orders`" in text
    actions = [e["action_id"] for e in blocks[-1]["elements"]]
    assert actions == ["card.ack", "card.declare_incident"]


def test_an_acknowledged_and_resolved_watch_card_says_so() -> None:
    ack = Ack(user_id="U0BOB", at=T0)
    resolved = watch(status="resolved", resolved_at=T0)
    blocks = blocks_of(resolved, ack=ack)
    assert blocks[0]["text"]["text"] == "🟢 Slot orders_cdc on orders · recovered"
    assert "👀 Acknowledged by <@U0BOB>" in text_of(blocks)
    assert [e["action_id"] for e in blocks[-1]["elements"]] == ["card.declare_incident"]


def test_a_lost_slot_says_lost_in_its_header() -> None:
    look = report(row(retained=0, status="lost"))
    lost = watch(report=narrow(look, look.slots[0]))
    assert blocks_of(lost)[0]["text"]["text"] == "🔴 Slot orders_cdc on orders · lost"


def test_a_database_card_shows_why_it_cannot_be_watched_escaped() -> None:
    card = SlotWatch(
        database="orders",
        severity=Level.WARNING,
        problem="Seawall cannot check orders (FATAL: <role> does not exist)",
        fired_at=T0,
        checked_at=T0,
    )
    blocks = blocks_of(card)
    assert blocks[0]["text"]["text"] == "🟠 Slot watch on orders · warning"
    assert "&lt;role&gt;" in text_of(blocks)
