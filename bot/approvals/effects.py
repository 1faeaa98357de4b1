"""Applying an approval rule to the stored card, and what follows a change that was written:
the timeline entry and, for a playbook step, waking the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.approvals.rules import Outcome
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.models.approval import Approval, is_complete
from bot.models.card import TriageCard
from bot.store import REDIS_ERRORS, CardMutation

SEAWALL = "seawall"  # the timeline's actor for what no person did (expiry, the engine)


async def load(deps: Deps, card_id: str) -> Approval | None:
    card = await deps.store.get_card(card_id)
    return card.subject if card and isinstance(card.subject, Approval) else None


async def apply(
    deps: Deps, card_id: str, actor: str | None, rule: Callable[[Approval], Outcome]
) -> Outcome | None:
    """Apply `rule` to the card's request atomically (compare-and-set: it sees the state as
    stored, retried on conflict). None when there is no such request. Only the delivery whose
    change was written follows it up, so retries never add a second timeline entry."""
    seen: list[tuple[Approval, Outcome]] = []

    def mutate(card: TriageCard | None) -> CardMutation | None:
        seen.clear()
        if card is None or not isinstance(card.subject, Approval):
            return None
        outcome = rule(card.subject)
        seen.append((card.subject, outcome))
        if outcome.approval is None:
            return None
        card.subject = outcome.approval
        return CardMutation(card=card, replies=[outcome.reply] if outcome.reply else [])

    result = await deps.store.mutate_card(card_id, mutate)
    if not seen:
        return None
    before, outcome = seen[-1]
    if result.changed and outcome.approval is not None:
        await _follow_up(deps, before, outcome.approval, outcome, actor)
    return outcome


async def _follow_up(
    deps: Deps, before: Approval, after: Approval, outcome: Outcome, actor: str | None
) -> None:
    texts = {
        "approved": f"Approved ({after.approved_via}): {after.description}",
        "withdrawn": f"Approval withdrawn: {after.description}",
        "expired": f"Approval request expired: {after.description}",
        "executed": f"Approved change carried out: {after.description}",
        "cancelled": f"Approval request {after.ended_reason}: {after.description}",
        "ticked": "; ".join(
            f"{'ticked' if new.ticked_by else 'unticked'} checklist item: {new.text}"
            for old, new in zip(before.checklist, after.checklist, strict=True)
            if old.ticked_by != new.ticked_by
        ),
    }
    text = texts.get(outcome.event or "", "")
    if text:
        who = SEAWALL if outcome.event == "expired" else actor or SEAWALL
        await record(deps, after, text, who)
    woke = is_complete(after) and not is_complete(before)
    # A withdrawal wakes the run too: a step-back prompt shown meanwhile must stop counting.
    if after.run_id and (woke or outcome.event in ("expired", "cancelled", "withdrawn")):
        # No key: a key still held by the run's current job would swallow this wake-up, and
        # the engine treats a surplus advance as a no-op.
        await enqueue(deps, "advance_run", None, 0.0, run_id=after.run_id)


async def record(deps: Deps, a: Approval, text: str, actor: str) -> None:
    await deps.timeline.append(a.incident_id, "approval", text, actor=actor, ref=a.approval_id)


async def enqueue(
    deps: Deps, function: str, key: str | None, delay_s: float, **kwargs: Any
) -> None:
    try:
        await deps.jobs.enqueue(function, key=key, delay_s=delay_s, **kwargs)
    except REDIS_ERRORS as exc:
        raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc


async def redraw(deps: Deps, card_id: str) -> None:
    """Send the card again unchanged: Slack keeps showing a refused checkbox tick until then."""
    await deps.store.mutate_card(card_id, lambda card: CardMutation(card=card) if card else None)
