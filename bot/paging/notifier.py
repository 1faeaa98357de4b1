"""Ways to reach a paged person: a Protocol and two backends.

- `SlackDM`: the DM card with Acknowledge (through the outbox, like every card). Slack
  pushes nothing to a phone in Do Not Disturb, so it is step 0, never the only step.
- `AppriseNotifier`: any Apprise URL (ntfy, Pushover emergency, Telegram, Gotify, Twilio SMS
  or call...). Apprise reports whether each delivery was accepted; it never learns that a
  person acknowledged: the ladder and its timers are Seawall's.

A failure is returned, never raised: the ladder records it on the page and goes on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from slack_sdk.errors import SlackApiError

from bot.core.clock import Clock
from bot.core.paging_config import NTFY_SCHEMES, url_label
from bot.models.card import TriageCard
from bot.models.page import PageNotice, notice_card_id
from bot.store import CardMutation, Store

log = logging.getLogger("seawall.paging.notifier")

PUSH_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class PageMessage:
    """What one step says: a push's title and body, the signed Acknowledge link (None when
    none can be made), and for Slack the DM card's subject."""

    recipient: str
    title: str
    body: str
    ack_url: str | None = None
    notice: PageNotice | None = None


@dataclass(frozen=True)
class Sent:
    ok: bool
    detail: str = ""


class Notifier(Protocol):
    async def send(self, via: str, message: PageMessage) -> Sent:
        """Deliver `message` by `via` ("slack" or an Apprise URL); never raises."""
        ...


class DMOpener(Protocol):
    async def conversations_open(self, *, users: str) -> Any: ...


class SlackDM:
    """The DM card: opened once per page and person, then kept up to date like any card."""

    def __init__(self, *, store: Store, slack: DMOpener, clock: Clock) -> None:
        self.store = store
        self.slack = slack
        self.clock = clock

    async def send(self, via: str, message: PageMessage) -> Sent:
        del via
        notice = message.notice
        if notice is None:
            return Sent(False, "no page to show")
        try:
            response = await self.slack.conversations_open(users=message.recipient)
            channel = str(response["channel"]["id"])
        except (TimeoutError, SlackApiError, KeyError, TypeError, OSError) as exc:
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            log.warning("cannot open a DM with %s: %s", message.recipient, reason)
            return Sent(False, f"Slack would not open a DM ({reason})")
        except Exception as exc:  # aiohttp errors when Slack is unreachable
            log.warning("cannot open a DM with %s: %s", message.recipient, exc)
            return Sent(False, f"Slack is unreachable ({type(exc).__name__})")
        card_id = notice_card_id(notice.page_id, message.recipient)
        now = self.clock.now()

        def create(card: TriageCard | None) -> CardMutation | None:
            if card is not None:
                # A later round: the same DM, and a reply in its thread so Slack notifies again.
                if not isinstance(card.subject, PageNotice) or card.subject == notice:
                    return None  # a retried step: nothing new to say
                card.subject = notice
                return CardMutation(card=card, replies=[_again(notice)])
            return CardMutation(
                card=TriageCard(
                    card_id=card_id, channel=channel, subject=notice, created_at=now, updated_at=now
                )
            )

        await self.store.mutate_card(card_id, create)
        return Sent(True, channel)


def _again(notice: PageNotice) -> str:
    return (
        f"🔔 Still not acknowledged: level {notice.level} of {notice.levels}, round "
        f"{notice.round} of {notice.rounds}. Press Acknowledge above to stop it."
    )


class AppriseNotifier:
    """Pushes through Apprise, one URL per call; blocking senders run in Apprise's threads."""

    def __init__(self, *, timeout_s: float = PUSH_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    async def send(self, via: str, message: PageMessage) -> Sent:
        import apprise

        target, body = with_ack(via, message)
        notifier = apprise.Apprise()
        if not notifier.add(target):
            return Sent(False, f"Apprise cannot use the URL {url_label(via)}")
        try:
            result = await asyncio.wait_for(
                notifier.async_notify(
                    body=body, title=message.title, notify_type=apprise.NotifyType.FAILURE
                ),
                timeout=self.timeout_s,
            )
        except TimeoutError:
            return Sent(False, f"{url_label(via)} did not answer within {self.timeout_s:.0f} s")
        except Exception as exc:  # a plugin bug must not stop the ladder
            log.exception("Apprise failed for %s", url_label(via))
            return Sent(False, f"{url_label(via)} failed ({type(exc).__name__})")
        if bool(result):
            return Sent(True, url_label(via))
        # Apprise's reason may name the topic or account: logs only, never a card.
        log.warning("push via %s failed: %s", url_label(via), _reason(result))
        return Sent(False, f"{url_label(via)} refused the push")


def with_ack(via: str, message: PageMessage) -> tuple[str, str]:
    """(the URL to send to, the body): ntfy gets an Acknowledge button (an `http` action the
    phone POSTs); other services get the link in the text, which opens a confirm page."""
    if not message.ack_url:
        return via, message.body
    scheme = via.split("://", 1)[0].lower()
    if scheme in NTFY_SCHEMES:
        action = f"http, Acknowledge, {message.ack_url}, method=POST, clear=true"
        joiner = "&" if "?" in via else "?"
        return f"{via}{joiner}actions={quote(action, safe='')}", message.body
    return via, f"{message.body}\nAcknowledge: {message.ack_url}"


def _reason(result: Any) -> str:
    """The last warning Apprise logged for a failed call (its result keeps them), if any."""
    try:
        entries = [str(getattr(e, "message", e)) for e in result.logs()]
    except Exception:  # older result objects have no logs(): say nothing more
        return "no detail"
    return entries[-1][:200] if entries else "no detail"


@dataclass(frozen=True)
class Notifiers:
    """The Slack DM and the push backend a ladder uses (tests inject their own)."""

    slack: Notifier
    push: Notifier

    def for_via(self, via: str) -> Notifier:
        return self.slack if via == "slack" else self.push
