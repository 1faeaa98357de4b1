"""The run card of a step that continues later: what it shows and the buttons it offers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.cards.common import ActionId, CardRef
from bot.cards.run import render_run
from bot.models.card import TriageCard
from bot.models.run import ChoiceRecord, PlaybookRun, RunStatus, StepRecord, StepState

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def card_of(step: StepRecord, status: RunStatus = RunStatus.WAITING) -> tuple[TriageCard, dict]:
    run = PlaybookRun(
        run_id="r1",
        playbook="resume-workers",
        params={"target": "emails"},
        requested_by="U0ALICE",
        channel="C0ALERTS",
        status=status,
        steps=[step],
        created_at=NOW,
    )
    card = TriageCard(card_id="run-r1", channel="C0ALERTS", subject=run, created_at=NOW,
                      updated_at=NOW)  # fmt: skip
    message = render_run(card, run, NOW)
    return card, json.loads(json.dumps([b.to_dict() for b in message.blocks]))


def waiting_step(**changes: object) -> StepRecord:
    values: dict[str, object] = {
        "name": "ramp",
        "description": "Resume emails step by step",
        "destructive": True,
        "state": StepState.WAITING,
        "waits": 3,
        "output": "w1 takes emails\nstep 2/3: 2 of 3 (67%) · depth █▄▁ 120 → 40",
    }
    values.update(changes)
    return StepRecord.model_validate(values)


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_ramp_waiting_on_its_timer_shows_its_level_curve_and_next_check() -> None:
    step = waiting_step(wake_at=NOW, choices=[ChoiceRecord(value="hold", label="Hold")])
    _, blocks = card_of(step)
    text = json.dumps(blocks, ensure_ascii=False)
    assert "waiting (continues later)" in blocks[0]["text"]["text"]
    assert "step 2/3: 2 of 3 (67%) · depth █▄▁ 120 → 40" in text
    assert "next check <!date^" in text
    hold, abort = buttons(blocks)
    assert (hold["action_id"], hold["text"]["text"]) == (ActionId.RUN_CHOICE_1, "Hold")
    assert CardRef.model_validate_json(hold["value"]) == CardRef(c="run-r1", d="hold@3")
    assert abort["action_id"] == ActionId.RUN_ABORT


def test_a_question_asks_in_the_header_and_offers_each_choice_once() -> None:
    choices = [
        ChoiceRecord(value="continue", label="Continue", style="primary"),
        ChoiceRecord(value="back", label="Step back"),
        ChoiceRecord(value="hold", label="Hold"),
    ]
    step = waiting_step(question="The queue did not fall: <!channel> 900 then, 1,200 now.",
                        choices=choices)  # fmt: skip
    _, blocks = card_of(step)
    assert "waiting for a choice" in blocks[0]["text"]["text"]
    assert "&lt;!channel&gt;" in json.dumps(blocks)  # what a step says is escaped
    offered = buttons(blocks)
    assert [b["action_id"] for b in offered] == [
        ActionId.RUN_CHOICE_1, ActionId.RUN_CHOICE_2, ActionId.RUN_CHOICE_3, ActionId.RUN_ABORT
    ]  # fmt: skip
    assert [CardRef.model_validate_json(b["value"]).d for b in offered[:3]] == [
        "continue@3", "back@3", "hold@3"
    ]  # fmt: skip


def test_a_finished_run_offers_no_choice_any_more() -> None:
    step = waiting_step(choices=[ChoiceRecord(value="hold", label="Hold")])
    _, blocks = card_of(step, RunStatus.ABORTED)
    assert all(b["action_id"] != ActionId.RUN_CHOICE_1 for b in buttons(blocks))
