"""The storm card: a whole channel's storm in one message, kept current (bot/storm).

Its first line (the header) says the storm's shape in a lock screen's width, and is what a
page about the storm says too. Then the totals, every group by state and severity as the
layout fits (bot/cards/storm_layout.py), whether the storm is over, and two buttons.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    MESSAGE_BLOCKS_MAX,
    ActionId,
    CardMessage,
    action_button,
    blocks_text_length,
    escape,
    plain,
    slack_time,
    truncate,
    with_notes,
)
from bot.cards.storm_layout import fit
from bot.models.card import TriageCard
from bot.models.storm import Storm

# The card's text in all, well under what Slack takes (BLOCKS_TEXT_MAX): the list grows with
# the storm, and a refused update would leave the channel with a stale storm card.
STORM_TEXT_BUDGET = 10_000


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def counted(n: int, word: str) -> str:
    """'1 group', '1,200 groups': the first line is read on a lock screen, so it reads right."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def headline(storm: Storm) -> str:
    """The first line, plain text: what a phone's lock screen shows of the storm (and of the
    page about it). The worst group's name is untrusted: escape it before mrkdwn."""
    groups = len(storm.rows)
    firing = storm.firing_rows()
    if storm.end_reason == "resolved":
        text = f"🌤️ STORM OVER · {counted(groups, 'group')}, all resolved"
    elif storm.end_reason == "quiet":
        text = (
            f"🌤️ STORM OVER · quiet for {duration_text(storm.quiet)} · "
            f"{len(firing):,} of {counted(groups, 'group')} still firing"
        )
    else:
        text = (
            f"⛈️ STORM · {counted(len(firing), 'group')} firing · "
            f"{counted(storm.firing_alerts, 'alert')}"
            f"{_worst(storm)}"
        )
    return truncate(plain(text), HEADER_TEXT_MAX)


def _worst(storm: Storm) -> str:
    worst = storm.worst()
    if worst is None or not worst.is_firing:
        return ""
    return f" · worst: {worst.severity + ' ' if worst.severity else ''}{worst.name}"


def totals_text(storm: Storm) -> str:
    groups, firing = len(storm.rows), len(storm.firing_rows())
    line = (
        f"*{groups:,} groups* ({firing:,} firing, {groups - firing:,} resolved) · "
        f"*{storm.firing_alerts + storm.resolved_alerts:,} alerts* "
        f"({storm.firing_alerts:,} firing, {storm.resolved_alerts:,} resolved) · "
        f"since {slack_time(storm.started_at)}"
    )
    expected, posted = storm.cards_expected(), storm.posted()
    if posted < expected and not storm.is_over:
        cards = (
            f"Each group also gets its own card with its buttons, worst first, at Slack's pace "
            f"of one a second: {posted:,} of {expected:,} posted (↗ links to them)."
        )
    else:
        cards = f"{posted:,} groups have their own card (↗ links to them)."
    if storm.summary_only:
        names = ", ".join(escape(s) for s in storm.summary_only)
        cards += f" Severity {names}: listed here only while the storm lasts."
    return f"{line}\n{cards}"


def status_lines(card: TriageCard, storm: Storm, now: datetime) -> list[str]:
    quiet = duration_text(storm.quiet)
    if storm.ended_at is not None and storm.end_reason == "resolved":
        lines = [f"🌤️ Storm over at {slack_time(storm.ended_at)}: every group resolved."]
    elif storm.ended_at is not None:
        still = len(storm.firing_rows())
        lines = [
            f"🌤️ Storm over at {slack_time(storm.ended_at)}: nothing changed for {quiet}; "
            f"{still:,} groups still firing, each on its own card."
        ]
    else:
        lines = [
            f"Last change {slack_time(storm.changed_at)}. The storm is over once every group "
            f"resolved, or after {quiet} without change."
        ]
    if card.ack is not None:
        lines.append(f"👀 All acknowledged by <@{card.ack.user_id}> at {slack_time(card.ack.at)}")
    if card.silence is not None and card.silence.until > now:
        lines.append(
            f"🔕 Storm silenced by <@{card.silence.user_id}> until "
            f"{slack_time(card.silence.until)} (silence {escape(card.silence.silence_id)})"
        )
    lines = with_notes(lines, [f"⚠️ {note.text}" for note in card.notes])
    return [truncate(line, CONTEXT_TEXT_MAX) for line in lines]


def storm_buttons(card: TriageCard, storm: Storm, now: datetime) -> list[ActionsBlock]:
    firing = storm.firing_rows()
    elements = []
    if any(not r.acked for r in firing):
        elements.append(
            action_button(ActionId.STORM_ACK_ALL, "Acknowledge all", card.card_id, "primary")
        )
    if firing and (card.silence is None or card.silence.until <= now):
        elements.append(action_button(ActionId.STORM_SILENCE, "Silence storm 1h…", card.card_id))
    return [ActionsBlock(elements=elements)] if elements else []


def render_storm(card: TriageCard, storm: Storm, now: datetime) -> CardMessage:
    """The whole storm card, within Slack's limits whatever the storm's size."""
    head: list[Block] = [
        HeaderBlock(text=headline(storm)),
        SectionBlock(text=MarkdownTextObject(text=totals_text(storm))),
    ]
    tail: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=t) for t in status_lines(card, storm, now)]),
        *storm_buttons(card, storm, now),
    ]
    fixed = blocks_text_length([b.to_dict() for b in head + tail])
    layout = fit(
        storm,
        budget=STORM_TEXT_BUDGET - fixed,
        max_sections=MESSAGE_BLOCKS_MAX - len(head) - len(tail),
    )
    lists: list[Block] = [SectionBlock(text=MarkdownTextObject(text=s)) for s in layout.sections]
    text = truncate(escape(headline(storm)), FALLBACK_TEXT_MAX)
    return CardMessage(text=text, blocks=[*head, *lists, *tail])
