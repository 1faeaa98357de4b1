"""The change-request card: what is asked, by whom, the checklist, who approved, and when."""

from __future__ import annotations

import re
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)

from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    code,
    escape,
    plain,
    quote,
    safe_text,
    slack_time,
    truncate,
)
from bot.models.approval import Approval, checklist_done, is_complete, mention, who_can_approve
from bot.models.card import TriageCard

STATE_LABEL = {
    "pending": ("🔐", "waiting for approval"),
    "approved": ("✅", "approved"),
    "executed": ("🚀", "done"),
    "expired": ("⌛", "expired"),
    "cancelled": ("🚫", "cancelled"),
}
OPTION_TEXT_MAX = 75  # Slack's limit for a checkbox option's text and description
OPTIONS_PER_CHECKBOXES = 10  # Slack's limit per checkboxes element
CHECKLIST_BLOCK_PREFIX = "approval.checklist"
_CHECKLIST_BLOCK = re.compile(re.escape(CHECKLIST_BLOCK_PREFIX) + r"\.(\d{1,3})\.([01]{1,10})")


def checklist_block_id(chunk: int, ticked: list[bool]) -> str:
    """Names the chunk and the ticks it shows, so a click can be read as "what changed from
    what this person saw" (and a new state gets a new block, which Slack redraws)."""
    bits = "".join("1" if t else "0" for t in ticked)
    return f"{CHECKLIST_BLOCK_PREFIX}.{chunk}.{bits}"


def header_text(a: Approval) -> str:
    icon, label = STATE_LABEL[a.state]
    if a.state == "approved" and not checklist_done(a):
        # Not green: an approval counts only once every item is ticked too.
        done = sum(1 for item in a.checklist if item.ticked_by)
        icon = "⏳"
        label = f"approved, checklist incomplete ({done} of {len(a.checklist)} ticked)"
    what = f"Approval needed · {a.playbook} · {a.step_name}" if a.is_step else "Change request"
    return truncate(plain(f"{icon} {what} · {label}"), HEADER_TEXT_MAX)


def request_text(a: Approval) -> str:
    if not a.is_step:
        # The requester's own words: quoted, so they can never pass for a field of this card.
        label = f"*{mention(a.requested_by)} asked to change*, in their words:\n"
        return label + quote(a.description, SECTION_TEXT_MAX - len(label))
    lines = [f"*Step:* {escape(a.description)}"]
    if a.target:
        lines.append(f"*Target:* {code(a.target, 300)}")
    lines.append(f"*Playbook run:* `{escape(a.run_id or '')}`")
    return truncate("\n".join(lines), SECTION_TEXT_MAX)


def fields(a: Approval) -> list[MarkdownTextObject]:
    approved = "—"
    if a.approved_by and a.approved_at:
        approved = f"{mention(a.approved_by)} ({a.approved_via}) at {slack_time(a.approved_at)}"
    expiry = "Expired" if a.state == "expired" else "Expires"
    texts = [
        f"*Requested by*\n{mention(a.requested_by)} at {slack_time(a.created_at)}",
        f"*{expiry}*\n{slack_time(a.expires_at)}",
        f"*Approved by*\n{approved}",
        f"*Who can approve*\n{who_can_approve(a)}",
    ]
    return [MarkdownTextObject(text=truncate(t, FIELD_TEXT_MAX)) for t in texts]


def checklist_name(a: Approval) -> str:
    """ "*Checklist `database`* (why it was picked)", or "*Checklist*" for the default one."""
    sources = a.checklist_sources
    if not sources:
        return "*Checklist*"
    names = ", ".join(f"`{safe_text(s.name, 40)}`" for s in sources)
    title = f"*Checklist{'s' if len(sources) > 1 else ''} {names}*"
    words = [f"“{safe_text(s.matched, 100)}”" for s in sources if s.matched]
    if not words:
        return f"{title} (chosen by the requester)"
    verb = "is" if len(words) == 1 else "are"
    return f"{title} ({', '.join(words)} {verb} in the description)"


def checklist_blocks(a: Approval) -> list[Block]:
    if not a.checklist:
        return []
    done = sum(1 for item in a.checklist if item.ticked_by)
    title = f"{checklist_name(a)} — {done} of {len(a.checklist)} ticked"
    if a.state in ("pending", "approved"):
        title += " (every item must be ticked before the change counts as approved)"
    else:
        lines = [
            ("☑ " if item.ticked_by else "☐ ")
            + safe_text(item.text, 300)
            + (f" — {mention(item.ticked_by)}" if item.ticked_by else "")
            for item in a.checklist
        ]
        return [SectionBlock(text=truncate("\n".join([title, *lines]), SECTION_TEXT_MAX))]
    blocks: list[Block] = [SectionBlock(text=title)]
    size = OPTIONS_PER_CHECKBOXES
    for chunk, start in enumerate(range(0, len(a.checklist), size)):
        items = a.checklist[start : start + size]
        options = [
            Option(
                value=str(start + i),
                text=MarkdownTextObject(text=safe_text(item.text, OPTION_TEXT_MAX)),
                description=(
                    MarkdownTextObject(text=f"ticked by {mention(item.ticked_by)}")
                    if item.ticked_by
                    else None
                ),
            )
            for i, item in enumerate(items)
        ]
        ticked = [o for o, item in zip(options, items, strict=True) if item.ticked_by]
        element = CheckboxesElement(
            action_id=ActionId.APPROVAL_CHECKLIST.value,
            options=options,
            initial_options=ticked or None,
        )
        block_id = checklist_block_id(chunk, [item.ticked_by is not None for item in items])
        blocks.append(ActionsBlock(block_id=block_id, elements=[element]))
    return blocks


def context_lines(card: TriageCard, a: Approval) -> list[str]:
    lines = []
    if a.state in ("pending", "approved") and not a.approved_by:
        lines.append(
            f"To approve: react with :{a.reaction}: or press *Approve*. "
            "The requester cannot approve their own request."
        )
    if a.state == "approved" and not checklist_done(a):
        lines.append("⏳ Approved, but the checklist is incomplete: it does not count yet.")
    lines.extend(
        f"↩️ {mention(w.user_id)} withdrew their approval at {slack_time(w.at)}"
        for w in a.withdrawals[-3:]
    )
    if a.state == "executed" and a.executed_at:
        who = mention(a.executed_by) if a.executed_by else "Seawall (playbook run)"
        lines.append(f"🚀 Carried out by {who} at {slack_time(a.executed_at)}")
    if a.state == "cancelled" and a.ended_reason:
        lines.append(f"🚫 This request was {escape(a.ended_reason)}.")
    if a.incident_id:
        lines.append(f"Incident `{escape(a.incident_id)}`")
    lines.extend(f"⚠️ {note.text}" for note in card.notes)
    return [truncate(line, CONTEXT_TEXT_MAX) for line in lines]


def buttons(card: TriageCard, a: Approval) -> list[ButtonElement]:
    if a.state not in ("pending", "approved"):
        return []
    elements = []
    if a.state == "pending":
        elements.append(action_button(ActionId.APPROVE, "Approve", card.card_id, "primary"))
    if not a.is_step:
        if is_complete(a):
            elements.append(
                action_button(ActionId.APPROVAL_DONE, "Mark as done", card.card_id, "primary")
            )
        elements.append(
            action_button(ActionId.APPROVAL_CANCEL, "Cancel request", card.card_id, "danger")
        )
    return elements


def fallback_text(a: Approval) -> str:
    # No mentions here: the fallback drives notifications.
    what = f"Approval needed for {a.playbook} · {a.step_name}" if a.is_step else "Change request"
    return truncate(f"{what}: {escape(a.description)}", FALLBACK_TEXT_MAX)


def render_approval(card: TriageCard, subject: Approval, now: datetime) -> CardMessage:
    """The whole card; `now` is unused (times are absolute and shown in the reader's zone)."""
    del now
    blocks: list[Block] = [
        HeaderBlock(text=header_text(subject)),
        SectionBlock(text=MarkdownTextObject(text=request_text(subject))),
        SectionBlock(fields=fields(subject)),
        *checklist_blocks(subject),
    ]
    context = context_lines(card, subject)
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t) for t in context[:10]]))
    actions = buttons(card, subject)
    if actions:
        blocks.append(ActionsBlock(elements=actions))
    return CardMessage(text=fallback_text(subject), blocks=blocks)


def read_checklist_click(block_id: str, selected_values: list[str]) -> dict[int, bool] | None:
    """What a checkbox click changed, as {item index: ticked}, relative to what the clicker's
    card showed (named by the block id); None when the block is not a checklist of ours."""
    match = _CHECKLIST_BLOCK.fullmatch(block_id)
    if match is None:
        return None
    start = int(match.group(1)) * OPTIONS_PER_CHECKBOXES
    shown = match.group(2)
    selected = set(selected_values)
    changes = {}
    for offset, bit in enumerate(shown):
        index = start + offset
        wanted = str(index) in selected
        if wanted != (bit == "1"):
            changes[index] = wanted
    return changes
