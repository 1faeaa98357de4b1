"""Pages: waking the on-call person for one or more cards, and what Slack shows of it.

`Page` is the ladder's stored state (bot/paging/flow.py moves it; bot/paging/rules.py decides
each move). `PageNotice` is the subject of the Slack message a paged person gets in their DM
(and of the channel's "nobody acknowledged" message); `PagingStatus` is the line a triage
card shows while it pages ("paging @alice, level 1, next at 03:17").
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

PAGE_SCHEMA_VERSION = 1

# waiting: held by a maintenance pause; open: the ladder runs; the others are closed.
PageState = Literal["waiting", "open", "acked", "resolved", "exhausted"]
OPEN_STATES: tuple[PageState, ...] = ("waiting", "open")
CardSource = Literal["alertmanager", "sentry", "heartbeat"]


class PagedCard(BaseModel):
    """A card a page is about, as the page lists it."""

    card_id: str
    title: str  # untrusted (alert names, Sentry titles): escaped wherever it is shown
    severity: str | None = None
    rank: int = 0  # how bad (bot/models/severity.py); the worst names the page
    channel: str
    source: CardSource
    resolved: bool = False
    # Joined a page already acknowledged (a storm): the page's acknowledgement is not put on
    # this card as if someone had looked at it.
    joined_after_ack: bool = False


class Target(BaseModel):
    """Someone paged at the current level, and whether to skip straight to louder steps."""

    user_id: str
    loud_now: bool = False
    reason: str | None = None  # why loud at once: "in Do Not Disturb", "away", "Slack down"


class Delivery(BaseModel):
    """One step of the ladder that was carried out (or failed)."""

    step_id: str  # "r{round}.l{level}.{user}.{step}": once per page, whatever retries
    user_id: str
    via: str  # a label (scheme and server only): Apprise URLs hold secrets
    at: datetime
    ok: bool
    detail: str = ""


class Claim(BaseModel):
    """A push being sent: another tick leaves it alone until it is recorded or goes stale."""

    step_id: str
    token: str
    at: datetime


class Page(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: int = PAGE_SCHEMA_VERSION
    page_id: str
    person: str  # who level 1 paged when it was raised (user or user group): the storm key
    state: PageState
    raised_at: datetime
    reopened_at: datetime | None = None
    cards: list[PagedCard] = Field(default_factory=list)
    round: int = 0  # 0-based; the ladder runs 1 + repeat rounds
    level: int = 0  # 0-based index into oncall.escalation
    level_started_at: datetime | None = None  # None until the ladder starts (not paused)
    targets: list[Target] = Field(default_factory=list)
    deliveries: list[Delivery] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    wait_until: datetime | None = None  # held by a maintenance pause until then
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_via: str | None = None  # "Slack DM", "card", "push link", "/oncall ack", "incident"
    closed_at: datetime | None = None
    recipients: list[str] = Field(default_factory=list)  # who has a DM notice card
    alarm_posted: bool = False  # the channel's "nobody acknowledged" message
    notes: list[str] = Field(default_factory=list)  # e.g. "@alice is in DND, no push"

    MAX_DELIVERIES: ClassVar[int] = 200
    MAX_NOTES: ClassVar[int] = 5

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def firing(self) -> list[PagedCard]:
        return [c for c in self.cards if not c.resolved]

    def worst(self) -> PagedCard | None:
        """The firing card that names the page (the worst; the first raised on a tie)."""
        pool = self.firing() or self.cards
        return max(pool, key=lambda c: c.rank, default=None)

    def delivered(self, step_id: str) -> bool:
        return any(d.step_id == step_id for d in self.deliveries)

    def record(self, delivery: Delivery) -> None:
        self.claims = [c for c in self.claims if c.step_id != delivery.step_id]
        if not self.delivered(delivery.step_id):
            self.deliveries = [*self.deliveries, delivery][-self.MAX_DELIVERIES :]

    def add_note(self, text: str) -> None:
        if text not in self.notes:
            self.notes = [*self.notes, text][-self.MAX_NOTES :]


class PagingStatus(BaseModel):
    """The paging line of a triage card. `primary` is the card that raised the page: it shows
    the ladder live; cards that joined it show only state changes (chat.update is Tier 3)."""

    page_id: str | None = None  # None: only the maintenance pause to show
    state: PageState | None = None
    primary: bool = True
    paging: list[str] = Field(default_factory=list)  # user ids paged at this level
    level: int = 1
    levels: int = 1
    round: int = 1
    rounds: int = 1
    next_at: datetime | None = None
    next_what: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_via: str | None = None
    cards: int = 1
    worst_title: str | None = None  # untrusted
    paused_by: str | None = None
    paused_until: datetime | None = None
    notes: list[str] = Field(default_factory=list)


class PageNotice(BaseModel):
    """Subject of a paged person's DM card (`recipient`), or of the channel's "nobody
    acknowledged" message (`recipient` None)."""

    kind: Literal["page_notice"] = "page_notice"
    page_id: str
    recipient: str | None
    state: PageState
    summary: str = ""  # "12 alert groups firing, worst: DiskFull (critical)"; untrusted
    cards: list[PagedCard] = Field(default_factory=list)  # the worst first, at most a few
    total_cards: int = 0
    firing_cards: int = 0
    level: int = 1
    levels: int = 1
    round: int = 1
    rounds: int = 1
    raised_at: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_via: str | None = None
    closed_at: datetime | None = None
    paged: list[str] = Field(default_factory=list)  # everyone paged so far (channel alarm)
    reasons: list[str] = Field(default_factory=list)  # e.g. "in Do Not Disturb: pushed at once"


def notice_card_id(page_id: str, recipient: str | None) -> str:
    return f"page-{page_id}-{recipient or 'channel'}"
