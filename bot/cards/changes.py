""" "Changed recently" on a card: the changes of the window before its alert started.

Pure: a card's stored snapshot of changes (TriageCard.changes) in, mrkdwn lines out. Everything
in a change came from outside (CI, people) and is escaped; a URL becomes a link only when it
is a usable http(s) URL.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.cards.common import SECTION_TEXT_MAX, escape, slack_time, truncate, usable_url
from bot.models.card import TriageCard
from bot.models.change import Change

SOURCE_ICON = {"webhook": "🚢", "approval": "✅", "playbook": "▶️"}
SUMMARY_MAX = 160


def change_line(change: Change) -> str:
    summary = escape(truncate(" ".join(change.summary.split()), SUMMARY_MAX))
    url = usable_url(change.url)
    text = f"<{url}|{summary}>" if url else summary
    where = " · ".join(escape(x) for x in (change.service, change.environment) if x)
    who = (
        f"<@{change.author_slack_id}>"
        if change.author_slack_id
        else escape(change.author)
        if change.author
        else None
    )
    parts = [f"{SOURCE_ICON.get(change.source, '•')} {text}"]
    if where:
        parts.append(where)
    if who:
        parts.append(f"by {who}")
    parts.append(slack_time(change.at))
    return " · ".join(parts)


def change_lines(changes: Sequence[Change]) -> list[str]:
    return [change_line(c) for c in changes]


def changed_recently(card: TriageCard) -> list[Block]:
    """The section for the card, or nothing when no change was recorded before it."""
    if not card.changes:
        return []
    title = (
        "*Changed recently*, before it started:"
        if card.changes_matched
        else "*Changed recently* (latest changes anywhere, before it started):"
    )
    text = truncate("\n".join([title, *change_lines(card.changes)]), SECTION_TEXT_MAX)
    return [SectionBlock(text=MarkdownTextObject(text=text))]
