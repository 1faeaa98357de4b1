"""Shared pieces of every card: escaping, truncation, times, action ids, button values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlparse

from pydantic import BaseModel
from slack_sdk.models.blocks import Block, ButtonElement

# Slack's limits (docs, and enforced by our emulator): see docs/decisions.md for sources.
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_MAX = 10
HEADER_TEXT_MAX = 150
CONTEXT_TEXT_MAX = 2000
BUTTON_URL_MAX = 3000
FALLBACK_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
# Slack refuses a message whose blocks hold too much text in all (`msg_blocks_too_long`). The
# limit is undocumented: ~13,300 characters observed, "12,000 with a buffer for block
# containers" from Slack's SDK team (slackapi/bolt-js#2509, #2867); the emulator enforces it as
# counted by `blocks_text_length`. Messages that can grow without bound (the storm card) stay
# well under it.
BLOCKS_TEXT_MAX = 12_000


class ActionId(StrEnum):
    """Every interactive element's action_id; handlers register on these."""

    ACK = "card.ack"
    DECLARE_INCIDENT = "card.declare_incident"
    SILENCE_1H = "alert.silence_1h"
    SILENCE_CONFIRM = "alert.silence_confirm"  # "Silence anyway" after an over-broad warning
    SENTRY_RESOLVE = "sentry.resolve"
    SENTRY_IGNORE_1H = "sentry.ignore_1h"
    APPROVE = "approval.approve"
    APPROVAL_CHECKLIST = "approval.checklist"
    APPROVAL_DONE = "approval.done"
    APPROVAL_CANCEL = "approval.cancel"
    RUN_RERUN = "run.rerun"
    RUN_SKIP = "run.skip"
    RUN_ABORT = "run.abort"
    RUN_ASK_AGAIN = "run.ask_again"
    RUN_ROLLBACK = "run.rollback"
    # The buttons a waiting step offers (Hold, Continue...), by position: Slack wants action
    # ids unique within a block; the choice itself travels in the button's value.
    RUN_CHOICE_1 = "run.choice.1"
    RUN_CHOICE_2 = "run.choice.2"
    RUN_CHOICE_3 = "run.choice.3"
    RUN_CHOICE_4 = "run.choice.4"
    PROMPT_CONFIRM = "prompt.confirm"
    PROMPT_CONFIRM_TYPED = "prompt.confirm_typed"
    PROMPT_CANCEL = "prompt.cancel"
    PAGE_ACK = "page.ack"
    STORM_ACK_ALL = "storm.ack_all"
    STORM_SILENCE = "storm.silence"  # asks first: the exact matchers and what they would silence
    STORM_SILENCE_CONFIRM = "storm.silence_confirm"
    LINK_PREFIX = "card.link."  # link buttons: card.link.source, card.link.runbook, ...


RUN_CHOICES = (
    ActionId.RUN_CHOICE_1,
    ActionId.RUN_CHOICE_2,
    ActionId.RUN_CHOICE_3,
    ActionId.RUN_CHOICE_4,
)


class CardRef(BaseModel):
    """A button's value: which card it acts on (kept tiny; Slack allows 2000 chars), and for a
    button that confirms what the clicker was shown, a digest of that (`d`)."""

    c: str
    d: str | None = None


@dataclass(frozen=True)
class RenderContext:
    """What a card shows that depends on how Seawall is set up rather than on the card: given
    by whoever renders (the poster builds it from Settings), so cards stay pure and a button
    appears only where clicking it can work. The default is Seawall with nothing optional set."""

    sentry_api: bool = False  # SENTRY_API_TOKEN and SENTRY_ORG are set: Resolve / Ignore work


@dataclass(frozen=True)
class CardMessage:
    """What the poster sends: fallback text (notifications, screen readers) and blocks."""

    text: str
    blocks: list[Block]


# Bidirectional-text controls (embeddings, overrides, isolates, marks). U+202E makes the rest
# of a line read backwards, so untrusted text could show words it does not contain or pass
# for Seawall's own; nothing an alert, an issue or a command needs them for.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_NO_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))
# A lookalike for the backtick, so untrusted text cannot close the code span it is shown in.
_BACKTICK_STANDIN = "\u02cb"


def plain(text: str) -> str:
    """Untrusted text for a plain_text object (headers): Slack parses nothing there, but
    bidi controls would still reorder what people read."""
    return text.translate(_NO_BIDI)


CONTEXT_ELEMENTS_MAX = 10


def with_notes(lines: list[str], notes: list[str]) -> list[str]:
    """Context lines, then as many of the newest notes as a context block still takes."""
    room = max(0, CONTEXT_ELEMENTS_MAX - len(lines))
    return lines + (notes[-room:] if room else [])


def escape(text: str) -> str:
    """Make untrusted text inert in Slack mrkdwn: no mentions, no fake links, no channel pings,
    no bidi controls."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str, limit: int) -> str:
    """Untrusted text as one inline code span: Slack applies no bold or emoji there, so it
    cannot look like a Seawall field. Newlines are folded: a code span is one line."""
    inner = truncate(escape(" ".join(text.replace("`", _BACKTICK_STANDIN).split())), limit - 2)
    return f"`{inner}`" if inner.strip() else ""


def quote(text: str, limit: int) -> str:
    """Untrusted free text (what a person typed) as a block quote of code spans, line by line:
    it reads as someone's words and never in the form of Seawall's own status lines."""
    lines: list[str] = []
    used = 0
    for raw in text.splitlines() or [""]:
        room = limit - used - (3 if lines else 2)  # "> ", and the newline before it
        if room < 3:  # not even one character in a code span: the rest is left out
            break
        line = "> " + (code(raw, room) if raw.strip() else "")
        used += len(line) + (1 if lines else 0)
        lines.append(line)
    return "\n".join(lines)


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Cut to `limit` characters, marking the cut. Applied *after* escaping, and never in the
    middle of an entity, so the result is still valid mrkdwn."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(marker)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + marker


def safe_text(text: str, limit: int) -> str:
    return truncate(escape(text), limit)


def slack_time(moment: datetime) -> str:
    """A time Slack shows in each reader's own timezone, with a UTC fallback."""
    epoch = int(moment.timestamp())
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


def usable_url(url: str | None) -> str | None:
    """An http(s) URL with a host that Slack will accept on a button, else None.

    Real payloads carry `http://:9093` and `https:///console…`: those are shown nowhere
    rather than as broken links."""
    if not url or len(url) > BUTTON_URL_MAX:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    return url


def blocks_text_length(blocks: object) -> int:
    """Characters of text in a message's blocks (as dicts): every string but the `type` names,
    which is how the emulator counts toward BLOCKS_TEXT_MAX (a safe reading of Slack's rule)."""
    if isinstance(blocks, str):
        return len(blocks)
    if isinstance(blocks, dict):
        return sum(blocks_text_length(v) for k, v in blocks.items() if k != "type")
    if isinstance(blocks, list):
        return sum(blocks_text_length(v) for v in blocks)
    return 0


def link_button(name: str, label: str, url: str | None) -> ButtonElement | None:
    target = usable_url(url)
    if target is None:
        return None
    return ButtonElement(text=label, action_id=f"{ActionId.LINK_PREFIX}{name}", url=target)


def action_button(
    action: ActionId,
    label: str,
    card_id: str,
    style: str | None = None,
    *,
    confirms: str | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=label,
        action_id=action.value,
        value=CardRef(c=card_id, d=confirms).model_dump_json(exclude_none=True),
        style=style,
    )
