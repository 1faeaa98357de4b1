"""Paging decisions, pure: what pages, which page an alert joins, and the escalation ladder.

The ladder of a page is computed, never stored step by step: from the page's round, level,
when the level started and whom it pages, `plan` says which steps are due at a moment and
when the next thing happens. bot/paging/flow.py does the I/O and stores the outcome, so the
same inputs always give the same steps, whichever worker runs a tick and however often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.core.paging_config import Oncall, PageOn
from bot.models.alert import AlertGroup, Status
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.page import Page, PagedCard, PageNotice, PagingStatus
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.models.severity import severity_rank

# A push claimed by a tick that died mid-send is sent again after this long (at least once:
# a lost page is worse than a second buzz). Longer than a push's own timeout.
CLAIM_STALE = timedelta(seconds=30)
NOTICE_CARDS_MAX = 8


# --- what pages ----------------------------------------------------------------------------


def _alert_matches(labels: dict[str, str], wanted: dict[str, list[str]]) -> bool:
    return bool(wanted) and all(labels.get(k) in values for k, values in wanted.items())


def should_page(card: TriageCard, page_on: PageOn) -> bool:
    """Whether the card, as it stands, is something to wake someone for."""
    subject = card.subject
    if isinstance(subject, AlertGroup):
        return any(
            a.status is Status.FIRING and _alert_matches(a.labels, page_on.alertmanager)
            for a in subject.alerts.values()
        )
    if isinstance(subject, SentryIssue):
        return subject.status not in ("resolved", "ignored") and (
            (subject.level or "").lower() in page_on.sentry.level
        )
    if isinstance(subject, SentryMetricAlert):
        return subject.status in page_on.sentry.level
    if isinstance(subject, HeartbeatAlarm):
        return not subject.resolved  # a dead-man's switch pages as a critical alert does
    return False


def is_resolved(card: TriageCard) -> bool:
    subject = card.subject
    if isinstance(subject, AlertGroup):
        return subject.status is Status.RESOLVED
    if isinstance(subject, SentryIssue):
        return subject.status in ("resolved", "ignored")
    if isinstance(subject, SentryMetricAlert):
        return subject.status == "resolved"
    if isinstance(subject, HeartbeatAlarm):
        return subject.resolved
    return True


def paged_card(card: TriageCard, title: str) -> PagedCard | None:
    """How a page lists this card; None for cards that never page (runs, prompts...)."""
    subject = card.subject
    if isinstance(subject, AlertGroup):
        severity = subject.common_labels.get("severity") or _worst_label(subject)
        source: Literal["alertmanager", "sentry", "heartbeat"] = "alertmanager"
    elif isinstance(subject, SentryIssue):
        severity, source = subject.level, "sentry"
    elif isinstance(subject, SentryMetricAlert):
        severity, source = subject.status, "sentry"
    elif isinstance(subject, HeartbeatAlarm):
        severity, source = "critical", "heartbeat"
    else:
        return None
    return PagedCard(
        card_id=card.card_id,
        title=title,
        severity=severity,
        rank=severity_rank(severity),
        channel=card.channel,
        source=source,
        resolved=is_resolved(card),
    )


def _worst_label(group: AlertGroup) -> str | None:
    severities = [a.labels.get("severity") for a in group.alerts.values()]
    return max(severities, key=severity_rank, default=None)


# --- which page an alert joins ---------------------------------------------------------------

PlaceAction = Literal["new", "join", "reopen", "ignore"]


@dataclass(frozen=True)
class Placement:
    action: PlaceAction
    page_id: str | None = None
    reason: str = ""


def place(
    *,
    own: Page | None,
    open_for_person: Page | None,
    storm: Page | None,
    now: datetime,
    oncall: Oncall,
) -> Placement:
    """Where a card that should page goes. `own`: the page it was already part of;
    `open_for_person`: the open page of the person level 1 pages now; `storm`: the page last
    raised for that person (its key lives for the storm window)."""
    if own is not None:
        if own.is_open:
            return Placement("join", own.page_id, "already part of this page")
        if now - (own.reopened_at or own.raised_at) < oncall.flap_window:
            if own.state == "resolved":
                return Placement("reopen", own.page_id, "fired again before anyone acknowledged")
            return Placement("ignore", own.page_id, "flapping: it paged moments ago")
    if open_for_person is not None:
        return Placement("join", open_for_person.page_id, "its person is being paged already")
    if storm is not None and now - storm.raised_at < oncall.storm_window:
        if storm.state == "resolved":
            return Placement("reopen", storm.page_id, "storm: the page had resolved")
        if storm.state == "acked":
            return Placement("join", storm.page_id, "storm: the page was acknowledged")
    return Placement("new")


# --- the ladder ---------------------------------------------------------------------------


def step_id(round_: int, level: int, user_id: str, index: int) -> str:
    return f"r{round_}.l{level}.{user_id}.{index}"


@dataclass(frozen=True)
class PlannedStep:
    step_id: str
    user_id: str
    index: int
    via: str
    at: datetime

    @property
    def is_slack(self) -> bool:
        return self.via == "slack"


def level_steps(page: Page, oncall: Oncall) -> list[PlannedStep]:
    """Every step of the current level, in time order. A target in DND, away or unreachable
    on Slack gets the Slack DM and, at once, their first louder step (the rest keep their
    spacing); a step later than the level's ack timeout is not reached at this level."""
    if page.level_started_at is None:
        return []
    timeout = oncall.escalation[page.level].ack_timeout
    steps: list[PlannedStep] = []
    for target in page.targets:
        notify = oncall.person(target.user_id).notify
        loud = [s for s in notify if not s.is_slack]
        shift = loud[0].after if target.loud_now and loud else timedelta(0)
        for index, step in enumerate(notify):
            offset = step.after if step.is_slack else step.after - shift
            if offset >= timeout and offset > timedelta(0):
                continue
            steps.append(
                PlannedStep(
                    step_id(page.round, page.level, target.user_id, index),
                    target.user_id,
                    index,
                    step.via,
                    page.level_started_at + offset,
                )
            )
    return sorted(steps, key=lambda s: (s.at, s.index))


def level_end(page: Page, oncall: Oncall) -> datetime | None:
    if page.level_started_at is None:
        return None
    return page.level_started_at + oncall.escalation[page.level].ack_timeout


MoveKind = Literal["idle", "start", "escalate", "exhaust", "send"]


@dataclass(frozen=True)
class Move:
    """What a tick at `now` must do, and when the next tick is due (None: never)."""

    kind: MoveKind
    steps: list[PlannedStep] = field(default_factory=list)
    round: int = 0
    level: int = 0
    next_at: datetime | None = None


def claimed(page: Page, step: PlannedStep, now: datetime) -> bool:
    return any(c.step_id == step.step_id and now - c.at < CLAIM_STALE for c in page.claims)


def plan(page: Page, oncall: Oncall, now: datetime) -> Move:
    """The next move of the ladder at `now`."""
    if page.state == "waiting":
        if page.wait_until is not None and now < page.wait_until:
            return Move("idle", next_at=page.wait_until)
        return Move("start")
    if page.state != "open" or page.level_started_at is None:
        return Move("idle")
    end = level_end(page, oncall)
    assert end is not None
    if now >= end:
        if page.level + 1 < len(oncall.escalation):
            return Move("escalate", round=page.round, level=page.level + 1)
        if page.round < oncall.repeat:
            return Move("escalate", round=page.round + 1, level=0)
        return Move("exhaust")
    steps = [s for s in level_steps(page, oncall) if not page.delivered(s.step_id)]
    due = [s for s in steps if s.at <= now and not claimed(page, s, now)]
    later = [s.at for s in steps if s.at > now]
    stale_claims = [c.at + CLAIM_STALE for c in page.claims if now - c.at < CLAIM_STALE]
    return Move("send", steps=due, next_at=min([end, *later, *stale_claims]))


def rounds(oncall: Oncall) -> int:
    return 1 + oncall.repeat


# --- what people read ---------------------------------------------------------------------


def card_words(page: Page) -> str:
    sources = {c.source for c in page.cards}
    if sources == {"sentry"}:
        return "Sentry issues"
    if sources == {"alertmanager"}:
        return "alert groups"
    return "alerts"


def summary(page: Page, headline: str | None = None) -> str:
    """'DiskFull (critical)', or '12 alert groups firing, worst: DiskFull (critical)'; for a
    page about a storm, the storm card's first line (`headline`): a storm pages once, and says
    what the channel shows. Plain text: escape it before it reaches mrkdwn."""
    if headline:
        return headline
    worst = page.worst()
    if worst is None:
        return "a page"
    name = worst.title + (f" ({worst.severity})" if worst.severity else "")
    firing = len(page.firing())
    if len(page.cards) <= 1:
        return name
    return f"{firing} {card_words(page)} firing, worst: {name}"


def next_what(page: Page, oncall: Oncall, now: datetime) -> str | None:
    """What happens next on the ladder, for the card ("push to <@U1>", "level 2")."""
    move = plan(page, oncall, now)
    if page.state != "open" or move.next_at is None:
        return None
    end = level_end(page, oncall)
    if move.next_at == end:
        if page.level + 1 < len(oncall.escalation):
            return f"level {page.level + 2}"
        if page.round < oncall.repeat:
            return f"round {page.round + 2}"
        return "nobody acknowledged: the channel is told"
    pending = [s for s in level_steps(page, oncall) if s.at == move.next_at]
    if pending:
        step = pending[0]
        return f"{'Slack DM' if step.is_slack else 'push'} to <@{step.user_id}>"
    return None


def status_for(
    page: Page, oncall: Oncall, card_id: str, now: datetime, pause: PagingStatus | None
) -> PagingStatus:
    """The paging line of one of the page's cards."""
    worst = page.worst()
    primary = bool(page.cards) and page.cards[0].card_id == card_id
    move = plan(page, oncall, now)
    if not primary:
        # Cards that joined change only with the page's state: a storm's fifty cards must
        # not each be re-rendered (chat.update is Tier 3) at every step of the ladder.
        return PagingStatus(
            page_id=page.page_id,
            state=page.state,
            primary=False,
            rounds=rounds(oncall),
            acked_by=page.acked_by,
            acked_at=page.acked_at,
            ack_via=page.ack_via,
            worst_title=page.cards[0].title if page.cards else None,
            paused_by=pause.paused_by if pause and page.state == "waiting" else None,
            paused_until=pause.paused_until if pause and page.state == "waiting" else None,
        )
    status = PagingStatus(
        page_id=page.page_id,
        state=page.state,
        primary=primary,
        paging=[t.user_id for t in page.targets],
        level=page.level + 1,
        levels=len(oncall.escalation),
        round=page.round + 1,
        rounds=rounds(oncall),
        acked_by=page.acked_by,
        acked_at=page.acked_at,
        ack_via=page.ack_via,
        cards=len(page.cards),
        worst_title=worst.title if worst else None,
        notes=list(page.notes),
    )
    if primary and page.state == "open":
        status.next_at = move.next_at
        status.next_what = next_what(page, oncall, now)
    if page.state == "waiting" and pause is not None:
        status.paused_by, status.paused_until = pause.paused_by, pause.paused_until
    return status


def notice_for(
    page: Page, oncall: Oncall, recipient: str | None, headline: str | None = None
) -> PageNotice:
    ordered = sorted(page.cards, key=lambda c: (c.resolved, -c.rank))
    paged = list(dict.fromkeys(d.user_id for d in page.deliveries))
    target = next((t for t in page.targets if t.user_id == recipient), None)
    reasons = [target.reason] if target is not None and target.reason else []
    return PageNotice(
        page_id=page.page_id,
        recipient=recipient,
        state=page.state,
        summary=summary(page, headline),
        cards=ordered[:NOTICE_CARDS_MAX],
        total_cards=len(page.cards),
        firing_cards=len(page.firing()),
        level=page.level + 1,
        levels=len(oncall.escalation),
        round=page.round + 1,
        rounds=rounds(oncall),
        raised_at=page.raised_at,
        acked_by=page.acked_by,
        acked_at=page.acked_at,
        ack_via=page.ack_via,
        closed_at=page.closed_at,
        paged=paged,
        reasons=reasons,
    )


def push_text(page: Page, oncall: Oncall, headline: str | None = None) -> tuple[str, str]:
    """(title, body) of a push: plain text, short enough for a lock screen. The notifier adds
    the Acknowledge link (a button where the service has them)."""
    title = f"🚨 {summary(page, headline)}"
    lines = []
    for card in sorted(page.firing(), key=lambda c: -c.rank)[:5]:
        lines.append(f"• {card.title}" + (f" ({card.severity})" if card.severity else ""))
    hidden = len(page.firing()) - 5
    if hidden > 0:
        lines.append(f"…and {hidden} more")
    lines.append(
        f"Level {page.level + 1} of {len(oncall.escalation)}, "
        f"round {page.round + 1} of {rounds(oncall)}. Open Slack for the cards."
    )
    return title, "\n".join(lines)
