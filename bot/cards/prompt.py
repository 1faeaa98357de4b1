"""The step-back prompt card (in the operator's DM) and its type-the-name modal.

Step descriptions, targets, parameters, blast radius and rollback come from playbooks and
from whoever typed the slash command: all of it is escaped before it reaches mrkdwn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    FIELDS_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    code,
    escape,
    plain,
    safe_text,
    slack_time,
    truncate,
)
from bot.models.card import TriageCard
from bot.models.prompt import StepPrompt

TYPED_CONFIRM_CALLBACK = "step_back.typed_confirm"
TYPED_BLOCK = "typed_target"
TYPED_ACTION = "typed_target"
NO_ROLLBACK = "No automatic rollback: if this goes wrong, undoing it is manual work."
INPUT_LABEL_MAX = 2000
TARGET_IN_LINE_MAX = 200


def _one_line(text: str) -> str:
    return " ".join(text.split())


def header_text(prompt: StepPrompt) -> str:
    if prompt.state == "confirmed":
        icon, verb = "✅", "Confirmed"
    elif prompt.state in ("cancelled", "expired"):
        icon, verb = "🛑", "Cancelled" if prompt.state == "cancelled" else "Ended"
    else:
        icon, verb = "⚠️", "Step back before"
    # What the step does, in the playbook's words (its id, e.g. "swap", is in the context).
    # plain_text: Slack does not parse mentions or links in a header.
    return truncate(plain(_one_line(f"{icon} {verb}: {prompt.step_description}")), HEADER_TEXT_MAX)


def fallback_text(prompt: StepPrompt) -> str:
    target = f" on {prompt.target}" if prompt.target else ""
    text = f"Step back: {prompt.playbook} wants to {prompt.step_description}{target}"
    return truncate(escape(_one_line(text)), FALLBACK_TEXT_MAX)


def what_will_happen(prompt: StepPrompt) -> str:
    lines = [f"*What will happen*\n{escape(prompt.step_description)}"]
    if prompt.target:
        lines.append(f"*Target:* {code(prompt.target, TARGET_IN_LINE_MAX)}")
    return truncate("\n".join(lines), SECTION_TEXT_MAX)


def param_fields(prompt: StepPrompt) -> list[MarkdownTextObject]:
    names = list(prompt.params)
    shown = names[: FIELDS_MAX - 1] if len(names) > FIELDS_MAX else names
    fields = [
        MarkdownTextObject(
            text=truncate(f"*{escape(name)}*\n{code(prompt.params[name], 1000)}", FIELD_TEXT_MAX)
        )
        for name in shown
    ]
    if len(names) > len(shown):
        fields.append(MarkdownTextObject(text=f"…and {len(names) - len(shown)} more parameters"))
    return fields


def risk_text(prompt: StepPrompt) -> str:
    blast = escape(prompt.blast_radius) if prompt.blast_radius else "Not stated by the playbook."
    rollback = escape(prompt.rollback) if prompt.rollback else NO_ROLLBACK
    return truncate(f"*Blast radius*\n{blast}\n*Rollback*\n{rollback}", SECTION_TEXT_MAX)


def local_time_sentence(prompt: StepPrompt) -> str:
    if prompt.operator_local_time is None:
        return "🕰️ Your local time is unknown (Slack did not tell Seawall your timezone)."
    when = escape(prompt.operator_local_time)
    if prompt.late_night:
        return f"🌙 It's {when} for you — consider asking a teammate to look too."
    return f"🕰️ It's {when} for you."


def status_line(prompt: StepPrompt, now: datetime) -> str:
    by = f"<@{prompt.decided_by}>" if prompt.decided_by else "Seawall"
    at = f" at {slack_time(prompt.decided_at)}" if prompt.decided_at else ""
    if prompt.state == "confirmed":
        return f"✅ Confirmed by {by}{at}. The run continues with this step."
    if prompt.state == "cancelled":
        return f"🛑 Cancelled by {by}{at}. This step did not run; the run stops."
    if prompt.state == "expired":
        why = f" ({escape(prompt.ended_reason)})" if prompt.ended_reason else ""
        return (
            f"⌛ This prompt ended{why}. This step did not run; the run card offers to ask again."
        )
    if prompt.state == "available" and now >= prompt.confirm_available_at:
        return "👉 You can confirm now."
    return (
        "⏳ Take a breath and read the above. Confirm appears at "
        f"{slack_time(prompt.confirm_available_at)}; Cancel is here any time."
    )


def expiry_line(prompt: StepPrompt) -> str | None:
    if prompt.decided or prompt.expires_at is None:
        return None
    return f"⌛ Unconfirmed, this prompt ends at {slack_time(prompt.expires_at)}."


def context_text(card: TriageCard, prompt: StepPrompt) -> list[str]:
    of = f" of {prompt.step_count}" if prompt.step_count else ""
    name = f" (`{safe_text(prompt.step_name, 100)}`)" if prompt.step_name else ""
    lines = [
        f"Playbook `{safe_text(prompt.playbook, 100)}` · run `{safe_text(prompt.run_id, 100)}` "
        f"· step {prompt.step_index + 1}{of}{name} · asked of <@{prompt.operator}>"
    ]
    if prompt.high_risk and not prompt.decided:
        lines.append("🔐 High risk: confirming asks you to type the target's name.")
    expiry = expiry_line(prompt)
    if expiry:
        lines.append(expiry)
    lines.extend(f"⚠️ {note.text}" for note in card.notes)
    return [truncate(line, CONTEXT_TEXT_MAX) for line in lines]


def buttons(card: TriageCard, prompt: StepPrompt, now: datetime) -> list[ButtonElement]:
    if prompt.decided:
        return []
    elements = []
    if prompt.state == "available" and now >= prompt.confirm_available_at:
        action = ActionId.PROMPT_CONFIRM_TYPED if prompt.high_risk else ActionId.PROMPT_CONFIRM
        elements.append(action_button(action, "Confirm", card.card_id, "danger"))
    elements.append(action_button(ActionId.PROMPT_CANCEL, "Cancel", card.card_id))
    return elements


def render_prompt(card: TriageCard, subject: StepPrompt, now: datetime) -> CardMessage:
    """The prompt: what, where, how bad, how to undo, what time it is for the operator, and
    Confirm only once the pause is over (Cancel always, until decided)."""
    blocks: list[Block] = [
        HeaderBlock(text=header_text(subject)),
        SectionBlock(text=MarkdownTextObject(text=what_will_happen(subject))),
    ]
    fields = param_fields(subject)
    if fields:
        blocks.append(SectionBlock(fields=fields))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=risk_text(subject))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=local_time_sentence(subject))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=status_line(subject, now))))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=t) for t in context_text(card, subject)])
    )
    elements = buttons(card, subject, now)
    if elements:
        blocks.append(ActionsBlock(elements=elements))
    return CardMessage(text=fallback_text(subject), blocks=blocks)


def typed_confirm_view(card_id: str, prompt: StepPrompt) -> dict[str, Any]:
    """The modal of a high-risk Confirm: the operator types the target's name."""
    name = safe_text(_one_line(prompt.typed_name), TARGET_IN_LINE_MAX)
    explain = truncate(
        f"*{escape(prompt.step_description)}*\nThis step is marked high risk. "
        f"Type `{name}` below to confirm.",
        SECTION_TEXT_MAX,
    )
    view = View(
        type="modal",
        callback_id=TYPED_CONFIRM_CALLBACK,
        private_metadata=card_id,
        title="Confirm step",
        submit="Confirm",
        close="Not yet",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=explain)),
            InputBlock(
                block_id=TYPED_BLOCK,
                label=truncate(_one_line(f"Type {prompt.typed_name}"), INPUT_LABEL_MAX),
                element=PlainTextInputElement(action_id=TYPED_ACTION),
            ),
        ],
    )
    result: dict[str, Any] = view.to_dict()
    return result
