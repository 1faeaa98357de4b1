"""Declaring, finding and resolving incidents, and what their timelines hear.

An incident is the subject of its summary card, so its state changes are atomic card
mutations. Two Redis indexes find it: the incident channel's id, and the set of open ones.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field

from bot.core import keys
from bot.core.errors import ExternalServiceError, SeawallError
from bot.deps import Deps
from bot.incidents import channels
from bot.models.card import TriageCard
from bot.models.incident import Incident, LinkedAlert, Severity, incident_card_id
from bot.store import REDIS_ERRORS, CardMutation
from bot.timeline import plain_text

PIN_JOB = "incident_pin"
CHANGES_JOB = "attach_changes"
# The poster usually shows a new card within a second or two; the job polls this long, then
# fails so the queue retries it with backoff (a Slack outage must not lose the pin).
PIN_POLLS = 60
PIN_POLL_S = 0.5
PENDING = "pending"


async def get_incident(deps: Deps, incident_id: str) -> Incident | None:
    card = await deps.store.get_card(incident_card_id(incident_id))
    if card is None or not isinstance(card.subject, Incident):
        return None
    return card.subject


async def incident_for_channel(deps: Deps, channel_id: str) -> Incident | None:
    """The incident whose channel this is, or None for any other channel."""
    incident_id = await deps.redis.get(keys.incident_channel(channel_id))
    return await get_incident(deps, incident_id) if incident_id else None


async def open_incidents(deps: Deps) -> list[Incident]:
    """Open incidents, oldest declaration first."""
    ids: list[str] = await deps.redis.zrange(keys.OPEN_INCIDENTS, 0, -1)
    found = [await get_incident(deps, incident_id) for incident_id in ids]
    # An id whose card is gone or resolved (its resolve stopped half-way) leaves the set here,
    # so the set holds open incidents only (keys.OPEN_INCIDENTS).
    stale = [i for i, incident in zip(ids, found, strict=True) if not _is_open(incident)]
    if stale:
        await deps.redis.zrem(keys.OPEN_INCIDENTS, *stale)
    return [i for i in found if i is not None and _is_open(i)]


def _is_open(incident: Incident | None) -> bool:
    return incident is not None and incident.status == "open"


@dataclass
class Declared:
    incident: Incident | None  # None: a duplicate whose first declaration is still under way
    duplicate: bool = False
    problems: list[str] = field(default_factory=list)  # e.g. who could not be invited


async def declare(
    deps: Deps,
    *,
    title: str,
    severity: Severity,
    user_id: str,
    declared_in: str | None = None,
    alert: LinkedAlert | None = None,
    oncall: str | None = None,
) -> Declared:
    """Create the channel, the summary card (pinned by a job once posted), the indexes and
    the first timeline entries, then invite the declarer and `oncall`, the on-call person
    (the composition root asks paging: incidents never import it)."""
    now = deps.clock.now()

    async def known_incident(incident_id: str) -> bool:
        return bool(await deps.redis.exists(keys.card(incident_card_id(incident_id))))

    created = await channels.create_channel(deps.slack, title, now, known_incident)
    incident = Incident(
        incident_id=created.incident_id,
        title=title,
        severity=severity,
        channel=created.channel_id,
        channel_name=created.name,
        declared_by=user_id,
        declared_at=now,
        declared_in=declared_in,
    )
    if alert is not None:
        incident.link_alert(alert)
    card_id = incident_card_id(incident.incident_id)

    def create(card: TriageCard | None) -> CardMutation | None:
        if card is not None:
            return None
        return CardMutation(
            card=TriageCard(
                card_id=card_id,
                channel=incident.channel,
                subject=incident,
                created_at=now,
                updated_at=now,
            )
        )

    if not (await deps.store.mutate_card(card_id, create)).changed:
        raise SeawallError(f"incident {incident.incident_id} already exists")  # known_incident
    # The timeline first (the one entry that starts it for good); the channel finds the
    # incident, and its messages their timeline, only once the indexes below exist.
    await deps.timeline.begin(
        incident.incident_id,
        "incident",
        f"Incident declared: {title} ({severity.upper()})",
        actor=user_id,
        ref=card_id,
    )
    async with deps.redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.incident_channel(incident.channel), incident.incident_id)
        pipe.zadd(keys.OPEN_INCIDENTS, {incident.incident_id: now.timestamp()})
        await pipe.execute()
    if alert is not None:
        await deps.timeline.append(
            incident.incident_id,
            "alert",
            f"Alert linked: {alert.title}",
            actor=user_id,
            ref=alert.card_id,
        )
    await deps.jobs.enqueue(PIN_JOB, key=incident.incident_id, incident_id=incident.incident_id)
    # "What changed?" on the summary card: the changes feature's job, queued by its name (the
    # queue is the seam between features; bot/changes/flow.py ATTACH_JOB).
    await deps.jobs.enqueue(CHANGES_JOB, key=card_id, card_id=card_id)
    invitees = list(dict.fromkeys([user_id] + ([oncall] if oncall else [])))
    problems = await channels.invite(deps.slack, incident.channel, invitees)
    return Declared(incident, problems=problems)


async def declare_once(
    deps: Deps,
    *,
    title: str,
    severity: Severity,
    user_id: str,
    declared_in: str,
    oncall: str | None = None,
) -> Declared:
    """`declare`, unless the same person declared the same title moments ago (a double
    submit or a re-sent command): then the earlier incident is the answer."""
    digest = hashlib.sha256(" ".join(title.lower().split()).encode()).hexdigest()[:16]
    key = keys.incident_declare_once(user_id, digest)
    if not await deps.redis.set(key, PENDING, nx=True, ex=keys.INCIDENT_DECLARE_ONCE_TTL_S):
        earlier = await deps.redis.get(key)
        incident = await get_incident(deps, earlier) if earlier and earlier != PENDING else None
        return Declared(incident, duplicate=True)
    try:
        declared = await declare(
            deps,
            title=title,
            severity=severity,
            user_id=user_id,
            declared_in=declared_in,
            oncall=oncall,
        )
    except BaseException:
        # Nothing was declared: the person may try again at once.
        with contextlib.suppress(*REDIS_ERRORS):
            await deps.redis.delete(key)
        raise
    assert declared.incident is not None
    await deps.redis.set(key, declared.incident.incident_id, ex=keys.INCIDENT_DECLARE_ONCE_TTL_S)
    return declared


@dataclass
class Resolved:
    incident: Incident | None  # None: not an incident channel
    changed: bool


async def resolve(deps: Deps, channel_id: str, user_id: str) -> Resolved:
    """Mark the channel's incident resolved (once: a second resolve changes nothing)."""
    incident_id = await deps.redis.get(keys.incident_channel(channel_id))
    if not incident_id:
        return Resolved(None, changed=False)
    card_id = incident_card_id(incident_id)
    now = deps.clock.now()

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None or not isinstance(card.subject, Incident):
            return None
        if card.subject.status == "resolved":
            return None
        card.subject.status = "resolved"
        card.subject.resolved_by = user_id
        card.subject.resolved_at = now
        return CardMutation(card=card, replies=[f"✅ <@{user_id}> resolved this incident."])

    result = await deps.store.mutate_card(card_id, mutate)
    incident = result.card.subject if result.card is not None else None
    if not isinstance(incident, Incident):
        return Resolved(None, changed=False)
    if result.changed:
        await deps.timeline.append(
            incident_id, "incident", "Incident resolved", actor=user_id, ref=card_id
        )
    if incident.status == "resolved":
        await _start_postmortem_window(deps, incident_id, channel_id)
    return Resolved(incident, changed=result.changed)


async def _start_postmortem_window(deps: Deps, incident_id: str, channel_id: str) -> None:
    """The timeline and the channel's index expire with the resolved summary card (which
    bot/models/lifecycle.py keeps as long). NX: a repeated resolve, which also completes one
    that stopped half-way, does not push the window back."""
    window_s = int(deps.config.retention.timelines.total_seconds())
    async with deps.redis.pipeline(transaction=True) as pipe:
        pipe.zrem(keys.OPEN_INCIDENTS, incident_id)
        pipe.expire(keys.timeline(incident_id), window_s, nx=True)
        pipe.expire(keys.incident_channel(channel_id), window_s, nx=True)
        await pipe.execute()


async def link_run(deps: Deps, incident_id: str, run_id: str, what: str, user_id: str) -> None:
    """Show a playbook run on the incident's card and note its start in the timeline."""

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None or not isinstance(card.subject, Incident):
            return None
        if run_id in card.subject.run_ids:
            return None
        card.subject.run_ids.append(run_id)
        return CardMutation(card=card)

    await deps.store.mutate_card(incident_card_id(incident_id), mutate)
    await deps.timeline.append(incident_id, "step", what, actor=user_id, ref=run_id)


async def record_message(deps: Deps, channel_id: str, user_id: str, text: str, ts: str) -> bool:
    """A person's message in an incident channel joins its timeline; False elsewhere."""
    incident_id = await deps.redis.get(keys.incident_channel(channel_id))
    if not incident_id:
        return False
    body = plain_text(text).strip()
    if not body:
        return False
    await deps.timeline.append(incident_id, "message", body, actor=user_id, ref=ts)
    return True


async def pin_summary_card(deps: Deps, incident_id: str) -> bool:
    """Job: pin the summary card once the poster has put it in Slack."""
    card_id = incident_card_id(incident_id)
    for _ in range(PIN_POLLS):
        where = await deps.store.card_message(card_id)
        if where is not None:
            return await channels.pin(deps.slack, *where)
        await deps.clock.sleep(PIN_POLL_S)
    raise ExternalServiceError(f"the summary card of {incident_id} is not in Slack yet")


JOBS = {PIN_JOB: pin_summary_card}
