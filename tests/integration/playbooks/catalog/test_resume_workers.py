"""`/playbook resume-workers <target>` end to end: the ramp against two real Celery workers
(each step visible in their consumer lists), a real Alertmanager whose alert stops it, and a
crash drill with real `seawall worker` processes, one SIGKILLed while a ramp step runs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cards.common import ActionId
from bot.core.config import FileConfig
from bot.models.run import PlaybookRun, RunStatus, StepState
from playbooks.pausing import PausedTarget, load_paused, remember_pause
from playbooks.providers.celery_workers import CeleryWorkers
from playbooks.providers.command_workers import CommandWorkers
from playbooks.providers.workers import Capacity, CeleryTarget, CommandTarget
from playbooks.run_state import update_run
from tests.conftest import StackFactory
from tests.support.alertmanager import Alertmanager, WebhookReceiver
from tests.support.celery_pool import QUEUE, W1, W2, CeleryPool
from tests.support.ports import free_port
from tests.support.runs import (
    OPERATOR,
    card_text,
    confirm_prompt,
    fast_slack,
    header,
    press_choice,
    run_card,
    run_of,
)
from tests.support.stack import SeawallStack, button_value
from tests.support.waiting import wait_until
from tests.support.workers import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

RESUME = "resume-workers"
ALERT = {"alertname": "EmailsFailing", "service": "emails"}


def settings(targets: dict[str, Any]) -> dict[str, Any]:
    return {
        "step_back": {"confirm_delay_seconds": 0},
        "playbooks": {
            "pause-workers": {"targets": targets, "ramp": [1, "50%", "100%"], "ramp_wait": 0.5}
        },
    }


def emails(broker: str, **more: Any) -> dict[str, Any]:
    return {"backend": "celery", "broker": broker, "queues": [QUEUE], "control_timeout": 0.3,
            **more}  # fmt: skip


def paused_by_seawall(stack: SeawallStack, name: str, pool: Any, capacity: Capacity | None) -> None:
    """What pause-workers leaves behind (its own test drives it from Slack)."""

    async def pause() -> None:
        try:
            found = capacity or await pool.capacity()
            now = stack.deps.clock.now()
            record = PausedTarget(
                target=name, capacity=found, paused_by=OPERATOR, paused_run="x", paused_at=now
            )
            await remember_pause(stack.deps.redis, record)
            await pool.scale(found, 0)
        finally:
            await pool.aclose()

    stack.server.run_coroutine(pause())


def firsts(states: list[Any]) -> list[Any]:
    return [s for i, s in enumerate(states) if s not in states[:i]]


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    nowhere = WebhookReceiver(url=f"http://127.0.0.1:{free_port()}/hook")
    with Alertmanager(tmp_path / "am", nowhere) as am:
        yield am


def test_a_firing_alert_holds_the_ramp_where_it_is_and_it_climbs_one_worker_at_a_time(
    make_stack: StackFactory, celery_pool: CeleryPool, alertmanager: Alertmanager
) -> None:
    watched = emails(celery_pool.broker, alerts=['alertname="EmailsFailing"'])
    config = FileConfig.model_validate(settings({"emails": watched}))
    stack = make_stack(
        worker=True, emulator=fast_slack(), file_config=config, alertmanager_url=alertmanager.url
    )
    paused_by_seawall(stack, "emails", CeleryWorkers(CeleryTarget.model_validate(watched)), None)
    for i in range(6):
        celery_pool.send(f"backlog-{i}")
    alertmanager.fire(ALERT)  # the error rate is still up after the repair

    def asked(where: str) -> bool:
        step = run_of(stack, RESUME).steps[1]
        return step.wake_at is None and where in (step.question or "") and step.choice is None

    stack.sender.slash_command("/playbook", f"{RESUME} emails", user_id=OPERATOR)
    confirm_prompt(stack)
    wait_until(lambda: asked("paused (0 of 3)"), timeout=20, what="the question before step 1")
    assert celery_pool.consuming() == []  # stopped where it was: nothing resumed
    wait_until(lambda: "waiting for a choice" in header(stack, RESUME), what="asked on the card")
    text = card_text(stack, RESUME)
    assert "Plan: 1 → 2 → 3 of 3, 0.5 s apart, checking that the queue falls and alerts" in text
    assert "stopped at paused (0 of 3): 1 matching alert(s) firing: EmailsFailing." in text
    assert f"<@{OPERATOR}>" in text
    assert "Choose *Continue*, *Hold* on the card" in text

    press_choice(stack, RESUME, "Continue")  # the operator goes on anyway: one step
    wait_until(lambda: asked("step 1/3: 1 of 3 (33%)"), timeout=20, what="the next question")
    # The alert still fires: the ramp stopped at its first step, w1 with one slot of two.
    assert (celery_pool.consuming(), celery_pool.pool_sizes()[W1]) == ([W1], 1)

    alertmanager.resolve(ALERT)
    press_choice(stack, RESUME, "Continue")
    states = [((W1,), 1)]
    while "succeeded" not in header(stack, RESUME):
        states.append((tuple(celery_pool.consuming()), celery_pool.pool_sizes()[W1]))
        assert len(states) < 300, f"the ramp did not finish: {states[-3:]}"
        time.sleep(0.05)
    # Each step in the workers' consumer lists, in order; w2 only at the last one.
    assert firsts(states) == [((W1,), 1), ((W1,), 2), ((W1, W2), 2)]
    wait_until(lambda: len(celery_pool.done()) == 6, what="the backlog to drain")
    text = card_text(stack, RESUME)
    assert "Fully resumed: step 3/3: 3 of 3 (100%) · depth " in text
    assert f"<@{OPERATOR}> chose *Continue*" in text
    assert stack.server.run_coroutine(load_paused(stack.deps.redis, "emails")) is None


def test_hold_stays_step_back_goes_down_one_step_and_continue_climbs_again(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """`ramp_continue: button`: after each step's wait, the ramp asks; the command backend's
    state file shows the level each choice leads to."""
    state = tmp_path / "replicas"
    batch = {
        "backend": "command",
        "replicas": 4,
        "scale": ["python", "-m", "tests.fixtures.scale_workers", str(state), "{replicas}"],
    }
    values = settings({"batch": batch})
    values["playbooks"]["pause-workers"]["ramp_continue"] = "button"
    stack = make_stack(
        worker=True, emulator=fast_slack(), file_config=FileConfig.model_validate(values)
    )
    pool = CommandWorkers(CommandTarget.model_validate(batch))
    paused_by_seawall(stack, "batch", pool, Capacity(units=4))
    stack.sender.slash_command("/playbook", f"{RESUME} batch", user_id=OPERATOR)
    confirm_prompt(stack)

    def settled(waits: int) -> bool:
        """Waiting for a person (no timer), after `waits` waits."""
        step = run_of(stack, RESUME).steps[1]
        return step.waits == waits and step.wake_at is None and step.choice is None

    wait_until(lambda: settled(2), timeout=20, what="the question after the first step")
    assert state.read_text() == "1"
    wait_until(lambda: "Next step?" in card_text(stack, RESUME), what="the question on the card")
    press_choice(stack, RESUME, "Continue", user="U0BOB")  # not the operator, not an approver
    wait_until(lambda: any("Only <@U0ALICE>" in e.text for e in stack.emulator.ephemerals),
               what="the refusal")  # fmt: skip
    old_card = run_card(stack, RESUME)  # its buttons answer the question asked now
    # (choice, replicas after it, waits once it settles): Hold and Step back wait for a
    # person; Continue climbs, waits ramp_wait, then asks again (button mode).
    for label, replicas, waits in (
        ("Hold", "1", 3),
        ("Continue", "2", 5),
        ("Step back", "1", 6),
        ("Step back", "0", 7),
    ):
        press_choice(stack, RESUME, label)
        wait_until(
            lambda w=waits: settled(w),
            timeout=15,
            what=f"the card after {label}: {run_of(stack, RESUME).steps[1]!r}",
        )
        assert state.read_text() == replicas, f"after {label}"
    wait_until(lambda: "Holding at paused (0 of 4)" in card_text(stack, RESUME), what="card")
    assert "<@U0ALICE> chose *Step back*" in card_text(stack, RESUME)
    continue_then = button_value(old_card, ActionId.RUN_CHOICE_1)  # Continue, a while ago
    stack.sender.block_action(action_id=ActionId.RUN_CHOICE_1, value=continue_then,
                              user_id=OPERATOR, channel_id=old_card.channel,
                              message_ts=old_card.ts)  # fmt: skip
    wait_until(lambda: any("moved on" in e.text for e in stack.emulator.ephemerals),
               what="the stale click refused")  # fmt: skip
    assert settled(7)  # nothing moved
    assert state.read_text() == "0"


def command_target(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A command backend whose script logs every level it is asked for (state file.log)."""
    state = tmp_path / "replicas"
    state.write_text("4")
    scale = ["python", "-m", "tests.fixtures.scale_workers", str(state), "{replicas}"]
    return state, {"backend": "command", "scale": scale, "replicas": 4}


def levels_asked(state: Path) -> list[str]:
    log = Path(f"{state}.log").read_text()
    return [line.split()[1] for line in log.splitlines() if line.startswith("start")]


def test_a_worker_killed_mid_ramp_loses_no_wait_and_the_ramp_goes_on_from_its_step(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """The only `seawall worker` is SIGKILLed while the ramp waits after its first step (1 of
    4). The wait is a delayed job in Redis: a new worker takes it and the ramp goes on, 2 then
    4; the scale command's log shows every level it was ever asked for."""
    state, batch = command_target(tmp_path)
    values = settings({"batch": batch})
    stack = make_stack(worker=False, emulator=fast_slack(),
                       file_config=FileConfig.model_validate(values))  # fmt: skip
    config_path = tmp_path / "seawall.yml"
    config_path.write_text(yaml.safe_dump(values))
    env = worker_env(stack.deps.settings, config_path)
    first = WorkerProcess(tmp_path, env, "first")
    second = WorkerProcess(tmp_path, env, "second")
    first.start()
    try:
        pool = CommandWorkers(CommandTarget.model_validate(batch))
        paused_by_seawall(stack, "batch", pool, Capacity(units=4))
        stack.sender.slash_command("/playbook", f"{RESUME} batch", user_id=OPERATOR)
        confirm_prompt(stack)
        wait_until(lambda: run_of(stack, RESUME).steps[1].wake_at is not None, timeout=20,
                   what="the wait after the first step")  # fmt: skip
        first.kill()
        assert levels_asked(state) == ["0", "1"]
        second.start()
        wait_until(lambda: "succeeded" in header(stack, RESUME), timeout=30, interval=0.2,
                   what="the ramp to finish on the new worker")  # fmt: skip
    finally:
        first.stop()
        second.stop()
    assert levels_asked(state) == ["0", "1", "2", "4"]  # paused, then one step at a time
    assert state.read_text() == "4"


def test_a_ramp_step_interrupted_mid_way_runs_again_at_its_own_level_never_further(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """What a worker killed while it applied the second step leaves behind: the step written
    RUNNING, its facts from the last wait (the first step), the command maybe already run.
    The step is idempotent: it runs again, asks for 2 again, and waits; it does not skip to 4.
    (A real SIGKILL in the middle of a step is drilled in tests/integration/playbooks/
    test_engine.py; here the interesting part is where the ramp resumes.)"""
    state, batch = command_target(tmp_path)
    values = settings({"batch": batch})
    values["playbooks"]["pause-workers"]["ramp_wait"] = "1h"  # no timer fires in this test
    stack = make_stack(worker=True, emulator=fast_slack(),
                       file_config=FileConfig.model_validate(values))  # fmt: skip
    paused_by_seawall(stack, "batch", CommandWorkers(CommandTarget.model_validate(batch)),
                      Capacity(units=4))  # fmt: skip
    stack.sender.slash_command("/playbook", f"{RESUME} batch", user_id=OPERATOR)
    confirm_prompt(stack)
    wait_until(lambda: run_of(stack, RESUME).steps[1].waits == 1, what="the first step's wait")
    run_id = run_of(stack, RESUME).run_id
    subprocess.run([*batch["scale"][:-1], "2"], check=True)  # the dying worker ran it
    interrupted_at = stack.deps.clock.now()

    def killed_mid_step(run: PlaybookRun) -> list[str]:
        step = run.steps[1]
        step.state, step.started_at, run.status = (
            StepState.RUNNING,
            interrupted_at,
            RunStatus.RUNNING,
        )
        return []

    stack.server.run_coroutine(update_run(stack.deps, run_id, killed_mid_step))
    stack.server.run_coroutine(stack.deps.jobs.enqueue("advance_run", run_id=run_id))  # saq's retry
    wait_until(lambda: run_of(stack, RESUME).steps[1].waits == 2, what="the step run again")
    assert levels_asked(state) == ["0", "1", "2", "2"]  # the same level again, not 4
    step = run_of(stack, RESUME).steps[1]
    assert (step.facts["level"], step.attempts, state.read_text()) == ("1", 2, "2")
