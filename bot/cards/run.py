"""The live run card: one message per playbook run, its steps and where it stands."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.cards.common import (
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    RUN_CHOICES,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    code,
    escape,
    plain,
    slack_time,
    truncate,
)
from bot.models.card import TriageCard
from bot.models.run import PlaybookRun, RunStatus, StepRecord, StepState, answer_token

STATUS_TEXT = {
    RunStatus.QUEUED: "⏳ queued",
    RunStatus.RUNNING: "🔄 running",
    RunStatus.WAITING_CONFIRM: "✋ waiting for the operator's confirm",
    RunStatus.WAITING_APPROVAL: "🔒 waiting for approval",
    RunStatus.WAITING_OPERATOR: "⚠️ interrupted: waiting for a decision",
    RunStatus.BLOCKED: "⛔ blocked: ask again or abort",
    RunStatus.SUCCEEDED: "✅ succeeded",
    RunStatus.FAILED: "❌ failed",
    RunStatus.ABORTED: "🛑 aborted",
    RunStatus.WAITING: "⏱️ waiting (continues later)",
}
ASKING = "❓ waiting for a choice"
STEP_ICON = {
    StepState.PENDING: "▫️",
    StepState.RUNNING: "🔄",
    StepState.SUCCEEDED: "✅",
    StepState.FAILED: "❌",
    StepState.SKIPPED: "⏭️",
    StepState.WAITING: "⏱️",
}
STEPS_PER_SECTION = 8  # keeps each section far below Slack's 3000 characters


def _gates(step: StepRecord) -> str:
    marks = [
        m for m, on in (("destructive", step.destructive), ("four-eyes", step.four_eyes)) if on
    ]
    if step.ungated:
        marks.append("no gate")
    return f" _({', '.join(marks)})_" if marks else ""


def step_line(run: PlaybookRun, index: int, step: StepRecord) -> str:
    icon = STEP_ICON[step.state]
    if index == run.step_index and not run.status.finished and step.state is StepState.PENDING:
        icon = {
            RunStatus.WAITING_APPROVAL: "🔒",
            RunStatus.WAITING_CONFIRM: "✋",
            RunStatus.BLOCKED: "⛔",
        }.get(run.status, "👉")
    line = f"{icon} {index + 1}. {escape(truncate(step.description, 300))}{_gates(step)}"
    details = []
    if step.confirmed_by:
        details.append(f"confirmed by <@{step.confirmed_by}>")
    if step.decided_by:
        details.append(f"decision by <@{step.decided_by}>")
    if step.attempts > 1:
        details.append(f"attempt {step.attempts}")
    if step.output:
        details.append(escape(truncate(step.output.splitlines()[-1], 200)))
    if step.error:
        details.append(f"error: {escape(truncate(step.error, 300))}")
    if step.blocked_reason and run.status is RunStatus.BLOCKED and index == run.step_index:
        details.append(f"did not run: {escape(truncate(step.blocked_reason, 300))}")
    if step.rolled_back:
        details.append("rolled back")
    if step.state is StepState.WAITING and not run.status.finished:
        details.extend(_waiting_details(step))
    if details:
        line += "\n      " + " · ".join(details)
    return line


def _waiting_details(step: StepRecord) -> list[str]:
    details = []
    if step.question:
        details.append(f"❓ {escape(truncate(step.question, 500))}")
    if step.wake_at is not None:
        details.append(f"next check {slack_time(step.wake_at)}")
    elif step.choices:
        details.append("waits for a choice below")
    return details


def step_sections(run: PlaybookRun) -> list[Block]:
    lines = [step_line(run, i, s) for i, s in enumerate(run.steps)]
    chunks = [lines[i : i + STEPS_PER_SECTION] for i in range(0, len(lines), STEPS_PER_SECTION)]
    return [
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(c), SECTION_TEXT_MAX)))
        for c in chunks
    ]


def buttons(card: TriageCard, run: PlaybookRun) -> list[ButtonElement]:
    if run.status is RunStatus.WAITING_OPERATOR:
        return [
            action_button(ActionId.RUN_RERUN, "Re-run step", card.card_id, "danger"),
            action_button(ActionId.RUN_SKIP, "Skip step", card.card_id),
            action_button(ActionId.RUN_ABORT, "Abort run", card.card_id),
        ]
    if run.status is RunStatus.BLOCKED:
        return [
            action_button(ActionId.RUN_ASK_AGAIN, "Ask again", card.card_id, "primary"),
            action_button(ActionId.RUN_ABORT, "Abort run", card.card_id),
        ]
    step = run.current
    if run.status is RunStatus.WAITING and step is not None and step.choices:
        offered = [
            action_button(
                action,
                choice.label,
                card.card_id,
                choice.style,
                confirms=answer_token(choice.value, step.waits),
            )
            for action, choice in zip(RUN_CHOICES, step.choices, strict=False)
        ]
        return [*offered, action_button(ActionId.RUN_ABORT, "Abort run", card.card_id)]
    if not run.status.finished:
        return [action_button(ActionId.RUN_ABORT, "Abort run", card.card_id)]
    if offers_rollback(run):
        return [action_button(ActionId.RUN_ROLLBACK, "Roll back", card.card_id, "danger")]
    return []


def offers_rollback(run: PlaybookRun) -> bool:
    return (
        run.status in (RunStatus.ABORTED, RunStatus.FAILED)
        and run.rollback is None
        and bool(run.undoable)
    )


def rollback_text(run: PlaybookRun) -> str | None:
    """What undoing an aborted or failed run means: each step that ran, latest first, with
    its rollback in words (and whether Seawall can do it), or where the roll back stands."""
    if run.status not in (RunStatus.ABORTED, RunStatus.FAILED):
        return None
    ran = [s for s in reversed(run.steps) if s.state is StepState.SUCCEEDED and not s.read_only]
    if not ran:
        return None
    status = {
        "running": "↩️ Rolling back…",
        "done": f"↩️ Rolled back by <@{run.rollback_by}>.",
        "failed": "❌ The roll back stopped; finish it by hand:",
    }
    lines = [status[run.rollback] if run.rollback else "*To undo what ran* (latest first):"]
    for step in ran:
        how = escape(truncate(step.rollback or "no rollback given: undo by hand", 300))
        auto = " _(Roll back does this)_" if step.can_undo and not step.rolled_back else ""
        done = " ✅" if step.rolled_back else ""
        lines.append(f"• {escape(step.name)}: {how}{auto}{done}")
    return truncate("\n".join(lines), SECTION_TEXT_MAX)


def render_run(card: TriageCard, run: PlaybookRun, now: datetime) -> CardMessage:
    del now
    params = " ".join(f"{k}={v}" for k, v in run.params.items())
    asking = run.status is RunStatus.WAITING and run.current and run.current.question
    header_line = f"▶️ Playbook {run.playbook} · {ASKING if asking else STATUS_TEXT[run.status]}"
    header = truncate(plain(header_line), HEADER_TEXT_MAX)
    blocks: list[Block] = [HeaderBlock(text=header)]
    intro = f"*{escape(run.summary)}*\n{code(params, 500)}" if params else ""
    if intro or run.summary:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=intro or escape(run.summary))))
    blocks.extend(step_sections(run))
    undo = rollback_text(run)
    if undo:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=undo)))
    context = (
        f"Run `{run.run_id}` · started by <@{run.requested_by}> at {slack_time(run.created_at)}"
    )
    if run.finished_at:
        context += f" · ended {slack_time(run.finished_at)}"
    lines = [context, *(f"⚠️ {escape(n.text)}" for n in card.notes)]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t) for t in lines]))
    elements = buttons(card, run)
    if elements:
        blocks.append(ActionsBlock(elements=elements))
    fallback = f"Playbook {run.playbook}: {run.status.value}"
    return CardMessage(text=truncate(escape(fallback), FALLBACK_TEXT_MAX), blocks=blocks)
