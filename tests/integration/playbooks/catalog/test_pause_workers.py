"""`/playbook pause-workers <target>` end to end: two real Celery workers, real Redis, the
saq worker, the step-back prompt in the operator's DM, and the live run card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cards.common import ActionId
from bot.core.config import FileConfig
from playbooks.pausing import load_paused
from tests.conftest import StackFactory
from tests.support.celery_pool import QUEUE, W1, W2, CeleryPool
from tests.support.runs import (
    OPERATOR,
    card_text,
    confirm_prompt,
    fast_slack,
    header,
    press,
    run_card,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def config(broker: str, **target: object) -> FileConfig:
    emails = {"backend": "celery", "broker": broker, "queues": [QUEUE], "control_timeout": 0.3}
    return FileConfig.model_validate(
        {
            "step_back": {"confirm_delay_seconds": 0},
            "approvers": {"users": ["U0BOB"]},
            "playbooks": {"pause-workers": {"targets": {"emails": {**emails, **target}}}},
        }
    )


def test_pause_stops_new_work_at_once_and_shows_the_queue_before_and_after(
    make_stack: StackFactory, celery_pool: CeleryPool
) -> None:
    stack = make_stack(worker=True, emulator=fast_slack(), file_config=config(celery_pool.broker))
    for i in range(3):
        celery_pool.send(f"before-{i}")
    stack.sender.slash_command("/playbook", "pause-workers emails", user_id=OPERATOR)
    wait_until(lambda: "confirm" in header(stack, "pause-workers"), timeout=20, what="prompt")
    assert celery_pool.consuming() == [W1, W2]  # nothing changes before the confirm
    confirm_prompt(stack)
    wait_until(lambda: "succeeded" in header(stack, "pause-workers"), timeout=20, what="paused")

    assert celery_pool.consuming() == []
    for i in range(3):
        celery_pool.send(f"while-paused-{i}")
    wait_until(lambda: celery_pool.waiting() == 3, what="three tasks waiting")
    assert not [d for d in celery_pool.done() if d.startswith("while-paused")]
    text = card_text(stack, "pause-workers")
    assert "Before: emails:" in text
    assert f"3 taking new work: {W1}, {W2}" in text
    assert f"stopped consuming emails: {W1}, {W2}" in text
    assert "After: emails: 0 waiting; 0 running now; 0 taking new work" in text
    assert "/playbook resume-workers emails" in text
    paused = stack.server.run_coroutine(load_paused(stack.deps.redis, "emails"))
    assert paused is not None
    assert paused.capacity.units == 3
    assert paused.paused_by == OPERATOR


def test_a_target_that_is_not_configured_starts_nothing_and_names_the_ones_that_are(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(
        worker=True, emulator=fast_slack(), file_config=config("redis://127.0.0.1:1/1")
    )
    stack.sender.slash_command("/playbook", "pause-workers payments", user_id=OPERATOR)
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the refusal")
    assert answer.text.startswith("Nothing was started")
    assert "not a configured target (configured: emails)" in answer.text
    assert stack.messages() == []


def test_a_target_configured_for_four_eyes_waits_for_another_person_before_the_prompt(
    make_stack: StackFactory, celery_pool: CeleryPool
) -> None:
    stack = make_stack(
        worker=True, emulator=fast_slack(), file_config=config(celery_pool.broker, four_eyes=True)
    )
    stack.sender.slash_command("/playbook", "pause-workers emails", user_id=OPERATOR)
    wait_until(lambda: "approval" in header(stack, "pause-workers"), timeout=20, what="approval")
    assert "(destructive, four-eyes)" in card_text(stack, "pause-workers")
    assert stack.emulator.messages(stack.emulator.dm_channel(OPERATOR)) == []  # no prompt yet
    assert celery_pool.consuming() == [W1, W2]
    assert run_card(stack, "pause-workers") is not None


def test_rolling_back_a_pause_starts_a_gradual_resume_not_everything_at_once(
    make_stack: StackFactory, tmp_path: Path, redis_url: str
) -> None:
    state = tmp_path / "replicas"
    state.write_text("4")
    batch = {
        "backend": "command",
        "replicas": 4,
        "broker": redis_url,
        "queues": ["jobs"],
        "scale": ["python", "-m", "tests.fixtures.scale_workers", str(state), "{replicas}"],
    }
    values = {"step_back": {"confirm_delay_seconds": 0},
              "playbooks": {"pause-workers": {"targets": {"batch": batch}}}}  # fmt: skip
    stack = make_stack(
        worker=True, emulator=fast_slack(), file_config=FileConfig.model_validate(values)
    )
    stack.sender.slash_command("/playbook", "pause-workers batch", user_id=OPERATOR)
    wait_until(lambda: "confirm" in header(stack, "pause-workers"), timeout=20, what="prompt")
    # The queue's broker goes away while the prompt waits: the step after the pause fails.
    target = stack.deps.config.playbooks["pause-workers"]["targets"]["batch"]
    target["broker"] = "redis://127.0.0.1:1/0"
    confirm_prompt(stack)
    wait_until(lambda: "failed" in header(stack, "pause-workers"), timeout=20, what="failed")
    assert state.read_text() == "0"  # the pause itself was done
    target["broker"] = redis_url  # and it is back

    press(stack, run_card(stack, "pause-workers"), ActionId.RUN_ROLLBACK)
    wait_until(
        lambda: "Playbook resume-workers" in json.dumps([m.blocks for m in stack.messages()]),
        timeout=20,
        what="a resume-workers run",
    )
    wait_until(lambda: "confirm" in header(stack, "resume-workers"), timeout=20, what="its prompt")
    assert state.read_text() == "0"  # nothing resumed before its own confirm
    assert "a resume-workers run for batch starts" in card_text(stack, "pause-workers")
