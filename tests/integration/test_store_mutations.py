"""Store.mutate_card hands each mutation a card of its own: what that may and may not change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import keys
from bot.core.clock import SystemClock
from bot.models.alert import AlertGroup
from bot.models.card import CARD_SCHEMA_VERSION, Ack, TriageCard
from bot.store import CardMutation, MutationResult, Mutator, Store, connect

pytestmark = pytest.mark.integration

CARD_ID = "am-store-test"
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
STORED_V1 = Path(__file__).parents[1] / "fixtures" / "stored" / "alert_group_v1.json"


def mutate_once(redis_url: str, mutate: Mutator) -> tuple[MutationResult, TriageCard | None]:
    """Create the card, apply `mutate` to it, and read back what is stored."""

    async def scenario() -> tuple[MutationResult, TriageCard | None]:
        store = Store(connect(redis_url), SystemClock())
        card = TriageCard(
            card_id=CARD_ID,
            channel="C0ALERTS",
            subject=AlertGroup(group_key="{}:{alertname=Disk}"),
            created_at=NOW,
            updated_at=NOW,
        )
        await store.mutate_card(CARD_ID, lambda _: CardMutation(card=card))
        result = await store.mutate_card(CARD_ID, mutate)
        stored = await store.get_card(CARD_ID)
        await store.redis.aclose()
        return result, stored

    return asyncio.run(scenario())


def test_a_mutation_that_writes_nothing_answers_with_the_card_as_stored(redis_url: str) -> None:
    def changes_then_declines(card: TriageCard | None) -> CardMutation | None:
        assert card is not None
        card.ack = Ack(user_id="U0ALICE", at=NOW)  # changed in place, then not written
        return None

    result, stored = mutate_once(redis_url, changes_then_declines)
    assert not result.changed
    assert result.card is not None
    assert result.card.ack is None
    assert stored is not None
    assert stored.ack is None
    assert stored.revision == 1


def test_a_card_changed_in_place_is_written_as_the_next_revision(redis_url: str) -> None:
    def acknowledge(card: TriageCard | None) -> CardMutation | None:
        assert card is not None
        card.ack = Ack(user_id="U0ALICE", at=NOW)
        card.revision = 99  # the store numbers revisions, not the mutation
        return CardMutation(card=card)

    result, stored = mutate_once(redis_url, acknowledge)
    assert result.changed
    assert stored is not None
    assert stored.ack == Ack(user_id="U0ALICE", at=NOW)
    assert stored.revision == 2


def test_a_card_stored_by_the_previous_release_is_rewritten_with_this_schema(
    redis_url: str,
) -> None:
    stored_v1 = STORED_V1.read_text(encoding="utf-8")
    card_id = TriageCard.model_validate_json(stored_v1).card_id

    async def scenario() -> TriageCard | None:
        store = Store(connect(redis_url), SystemClock())
        await store.redis.set(keys.card(card_id), stored_v1)
        await store.mutate_card(card_id, lambda card: CardMutation(card=card) if card else None)
        stored = await store.get_card(card_id)
        await store.redis.aclose()
        return stored

    stored = asyncio.run(scenario())
    assert stored is not None
    assert stored.schema_version == CARD_SCHEMA_VERSION
    assert stored.revision == 8
