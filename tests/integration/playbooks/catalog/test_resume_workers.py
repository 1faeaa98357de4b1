"""`/playbook resume-workers <target>` end to end: the ramp against two real Celery workers
(each step visible in their consumer lists), a real Alertmanager whose alert stops it, and a
crash drill with real `seawall worker` processes, one SIGKILLed while a ramp step runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cards.common import ActionId
from bot.core.config import FileConfig
from playbooks.pausing import PausedTarget, load_paused, remember_pause
from playbooks.providers.celery_workers import CeleryWorkers
from playbooks.providers.command_workers import CommandWorkers
from playbooks.providers.workers import Capacity, CeleryTarget, CommandTarget
from tests.conftest import StackFactory
from tests.support.alertmanager import Alertmanager, WebhookReceiver
from tests.support.celery_pool import QUEUE, W1, W2, CeleryPool
from tests.support.ports import free_port
from tests.support.runs import (
    OPERATOR,
    card_text,
    confirm_prompt,
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
            "pause-workers": {"targets": targets, "ramp": [1, "50%", "100%"], "ramp_wait": "1s"}
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


def test_the_ramp_climbs_one_worker_at_a_time_and_a_firing_alert_stops_it_where_it_is(
    make_stack: StackFactory, celery_pool: CeleryPool, alertmanager: Alertmanager
) -> None:
    watched = emails(celery_pool.broker, alerts=['alertname="EmailsFailing"'])
    config = FileConfig.model_validate(settings({"emails": watched}))
    stack = make_stack(worker=True, file_config=config, alertmanager_url=alertmanager.url)
    paused_by_seawall(stack, "emails", CeleryWorkers(CeleryTarget.model_validate(watched)), None)
    for i in range(6):
        celery_pool.send(f"backlog-{i}")
    stack.sender.slash_command("/playbook", f"{RESUME} emails", user_id=OPERATOR)
    confirm_prompt(stack)
    states = []
    while (now := (tuple(celery_pool.consuming()), celery_pool.pool_sizes().get(W1))) != ((W1,), 2):
        states.append(now)
        assert len(states) < 300, f"the ramp did not reach its second step: {states[-3:]}"
        time.sleep(0.05)
    alertmanager.fire(ALERT)  # the error rate climbs at the second step

    wait_until(lambda: "waiting for a choice" in header(stack, RESUME), timeout=20, what="ask")
    # Each step seen in the workers' consumer lists, in order, never everything at once:
    # w1's pool shrunk to one slot of two, then w1 consuming with it, then w1 whole; w2
    # stays paused while the alert fires.
    assert firsts(states)[-1:] == [((W1,), 1)]
    assert set(firsts(states)) <= {((), 2), ((), 1), ((W1,), 1)}
    assert run_of(stack, RESUME).steps[1].wake_at is None  # no timer: it waits for a person
    assert (celery_pool.consuming(), celery_pool.pool_sizes()[W1]) == ([W1], 2)
    text = card_text(stack, RESUME)
    assert "Plan: 1 → 2 → 3 of 3, 1 s apart, checking that the queue falls and alerts" in text
    assert "stopped at step 2/3: 2 of 3 (67%): 1 matching alert(s) firing: EmailsFailing" in text
    assert f"<@{OPERATOR}>" in text
    assert "Choose *Continue*, *Step back*, *Hold*" in text

    press_choice(stack, RESUME, "Continue")  # the operator decides to go on anyway
    wait_until(lambda: "succeeded" in header(stack, RESUME), timeout=20, what="fully resumed")
    assert celery_pool.consuming() == [W1, W2]
    wait_until(lambda: len(celery_pool.done()) == 6, what="the backlog to drain")
    assert "Fully resumed: step 3/3: 3 of 3 (100%) · depth " in card_text(stack, RESUME)
    assert f"<@{OPERATOR}> chose *Continue*" in card_text(stack, RESUME)
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
    stack = make_stack(worker=True, file_config=FileConfig.model_validate(values))
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
        ("Step back", "0", 4),
        ("Continue", "1", 6),
        ("Continue", "2", 8),
        ("Step back", "1", 9),
    ):
        press_choice(stack, RESUME, label)
        wait_until(
            lambda w=waits: settled(w),
            timeout=15,
            what=f"the card after {label}: {run_of(stack, RESUME).steps[1]!r}",
        )
        assert state.read_text() == replicas, f"after {label}"
    wait_until(lambda: "Holding at step 1/3: 1 of 4 (25%)" in card_text(stack, RESUME), what="card")
    assert "<@U0ALICE> chose *Step back*" in card_text(stack, RESUME)
    continue_then = button_value(old_card, ActionId.RUN_CHOICE_1)  # Continue, five waits ago
    stack.sender.block_action(action_id=ActionId.RUN_CHOICE_1, value=continue_then,
                              user_id=OPERATOR, channel_id=old_card.channel,
                              message_ts=old_card.ts)  # fmt: skip
    wait_until(lambda: any("moved on" in e.text for e in stack.emulator.ephemerals),
               what="the stale click refused")  # fmt: skip
    assert settled(9)  # nothing moved
    assert state.read_text() == "1"


def test_a_worker_killed_while_a_ramp_step_runs_is_replaced_and_the_ramp_resumes_there(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """The seawall worker is SIGKILLed while the second ramp step (2 of 4 replicas) runs. The
    step is idempotent: another worker runs it again, at 2, and the ramp goes on to 4. The
    scale command's own log shows every level it was asked for, the killed attempt's too."""
    state = tmp_path / "replicas"
    state.write_text("4")
    scale = ["python", "-m", "tests.fixtures.scale_workers", str(state), "{replicas}",
             "slow=2:3"]  # fmt: skip
    batch = {"backend": "command", "scale": scale, "replicas": 4}
    values = settings({"batch": batch})
    stack = make_stack(worker=False, file_config=FileConfig.model_validate(values))
    config_path = tmp_path / "seawall.yml"
    config_path.write_text(yaml.safe_dump(values))
    env = worker_env(stack.deps.settings, config_path)
    first = WorkerProcess(tmp_path, env, "first")
    second = WorkerProcess(tmp_path, env, "second")
    first.start()
    try:
        pool = CommandWorkers(CommandTarget.model_validate(batch))
        paused_by_seawall(stack, "batch", pool, Capacity(units=4))
        log = Path(f"{state}.log")
        stack.sender.slash_command("/playbook", f"{RESUME} batch", user_id=OPERATOR)
        confirm_prompt(stack)
        wait_until(lambda: "start 2" in log.read_text(), timeout=30, what="the second step")
        t0 = time.time()
        first.kill()
        second.start()
        print("second up", time.time() - t0)
        wait_until(lambda: log.read_text().count("start 2") == 2, timeout=60, what="rerun")
        print("rerun", time.time() - t0)
        wait_until(lambda: "succeeded" in header(stack, RESUME), timeout=60, interval=0.2,
                   what="the ramp to finish on the other worker")  # fmt: skip
    finally:
        first.stop()
        second.stop()
    starts = [line.split()[1] for line in log.read_text().splitlines() if line.startswith("start")]
    assert starts == ["0", "1", "2", "2", "4"]  # paused; 1; 2 (killed), 2 again; then 4
    assert state.read_text() == "4"
    ramp = run_of(stack, RESUME).steps[1]
    assert ramp.attempts == 2  # started once, run again once after the kill
