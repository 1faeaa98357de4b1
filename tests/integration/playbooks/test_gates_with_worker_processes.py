"""The safety gates with two real `seawall worker` processes doing the work (as in
production), not an in-process worker: the step-back pause, four-eyes rules, double clicks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from bot.cards.common import ActionId
from bot.core.config import FileConfig
from tests.conftest import StackFactory
from tests.fixtures.destructive_playbook import ran_key
from tests.fixtures.sample_playbook import counter
from tests.support.stack import CHANNEL, SeawallStack, button_value
from tests.support.waiting import wait_until
from tests.support.workers import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

OPERATOR, APPROVER, OUTSIDER = "U0ALICE", "U0BOB", "U0MALLORY"
CONFIG = {
    "playbook_modules": ["tests.fixtures.destructive_playbook", "tests.fixtures.sample_playbook"],
    "step_back": {"confirm_delay_seconds": 2},
    "approvers": {"users": [APPROVER]},
}


@pytest.fixture
def stack(make_stack: StackFactory, tmp_path: Path) -> Iterator[SeawallStack]:
    stack = make_stack(worker=False, file_config=FileConfig.model_validate(CONFIG))
    config = tmp_path / "seawall.yml"
    config.write_text(yaml.safe_dump(CONFIG))
    env = worker_env(stack.deps.settings, config)
    workers = [WorkerProcess(tmp_path, env, name) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    try:
        yield stack
    finally:
        for worker in workers:
            worker.stop()


def value_in(stack: SeawallStack, key: str) -> int:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return int(client.get(key) or 0)
    finally:
        client.close()


def press(stack: SeawallStack, channel: str, ts: str, action: ActionId, user: str) -> None:
    message = stack.emulator.message(channel, ts)
    assert message is not None
    stack.sender.block_action(
        action_id=action,
        value=button_value(message, action),
        user_id=user,
        channel_id=channel,
        message_ts=ts,
    )


def run_header(stack: SeawallStack) -> str:
    for message in stack.messages(CHANNEL):
        if message.blocks and "Playbook" in message.blocks[0]["text"]["text"]:
            return str(message.blocks[0]["text"]["text"])
    return ""


def run_id(stack: SeawallStack) -> str:
    card = next(m for m in stack.messages(CHANNEL) if "Run `" in json.dumps(m.blocks))
    return json.dumps(card.blocks).split("Run `", 1)[1].split("`", 1)[0]


def test_confirm_appears_only_after_the_pause_and_a_double_click_runs_the_step_once(
    stack: SeawallStack,
) -> None:
    stack.sender.slash_command("/playbook", "drain-sample web-1", user_id=OPERATOR)
    dm = stack.emulator.dm_channel(OPERATOR)
    [prompt] = wait_until(lambda: stack.emulator.messages(dm), timeout=20, what="the prompt")
    assert button_value(prompt, ActionId.PROMPT_CONFIRM) is None  # the breathing pause
    assert button_value(prompt, ActionId.PROMPT_CANCEL) is not None  # cancel is always there
    wait_until(
        lambda: button_value(stack.emulator.message(dm, prompt.ts), ActionId.PROMPT_CONFIRM),
        timeout=15,
        what="Confirm after the pause",
    )
    press(stack, dm, prompt.ts, ActionId.PROMPT_CONFIRM, OPERATOR)
    press(stack, dm, prompt.ts, ActionId.PROMPT_CONFIRM, OPERATOR)
    wait_until(lambda: "succeeded" in run_header(stack), timeout=20, what="run succeeded")
    assert value_in(stack, ran_key(run_id(stack))) == 1


def test_four_eyes_refuses_the_requester_and_outsiders_and_counts_a_double_click_once(
    stack: SeawallStack,
) -> None:
    stack.sender.slash_command("/playbook", "sample-guarded web-1", user_id=OPERATOR)
    request = wait_until(
        lambda: next(
            (m for m in stack.messages(CHANNEL) if button_value(m, ActionId.APPROVE)), None
        ),
        timeout=20,
        what="the change-request card",
    )
    press(stack, CHANNEL, request.ts, ActionId.APPROVE, OPERATOR)
    press(stack, CHANNEL, request.ts, ActionId.APPROVE, OUTSIDER)
    wait_until(lambda: len(stack.emulator.ephemerals) >= 3, timeout=15, what="two refusals")
    assert value_in(stack, counter(run_id(stack), "change", "started")) == 0
    press(stack, CHANNEL, request.ts, ActionId.APPROVE, APPROVER)
    press(stack, CHANNEL, request.ts, ActionId.APPROVE, APPROVER)
    wait_until(lambda: "succeeded" in run_header(stack), timeout=20, what="run succeeded")
    assert value_in(stack, counter(run_id(stack), "change", "started")) == 1
    approvals = [e for e in stack.emulator.ephemerals if e.text.startswith("Approved.")]
    assert len(approvals) == 1  # the second click changed nothing
