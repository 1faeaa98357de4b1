"""Reading and changing a stored run: one atomic card mutation per transition."""

from __future__ import annotations

from collections.abc import Callable

from bot.deps import Deps
from bot.models.card import TriageCard
from bot.models.run import PlaybookRun, RunStatus, run_card_id
from bot.store import CardMutation

# A change to a run: edits it in place and returns thread replies, or None to write nothing.
Mutate = Callable[[PlaybookRun], list[str] | None]


async def load_run(deps: Deps, run_id: str) -> PlaybookRun | None:
    card = await deps.store.get_card(run_card_id(run_id))
    return card.subject if card is not None and isinstance(card.subject, PlaybookRun) else None


async def update_run(deps: Deps, run_id: str, change: Mutate) -> PlaybookRun | None:
    """Apply `change` to the stored run atomically; it returns thread replies, or None to
    write nothing."""
    result: PlaybookRun | None = None

    def mutate(card: TriageCard | None) -> CardMutation | None:
        nonlocal result
        if card is None or not isinstance(card.subject, PlaybookRun):
            return None
        replies = change(card.subject)
        if replies is None:
            return None
        result = card.subject
        return CardMutation(card=card, replies=replies)

    await deps.store.mutate_card(run_card_id(run_id), mutate)
    return result


async def finish_run(deps: Deps, run: PlaybookRun, status: RunStatus, reply: str) -> None:
    def finish(r: PlaybookRun) -> list[str] | None:
        if r.status.finished:
            return None
        r.status, r.finished_at = status, deps.clock.now()
        return [reply]

    await update_run(deps, run.run_id, finish)
    await deps.timeline.append(
        run.incident_id,
        "step",
        f"Playbook {run.playbook} {status.value}",
        actor="seawall",
        ref=run.run_id,
    )
