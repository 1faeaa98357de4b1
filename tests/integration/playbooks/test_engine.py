"""Playbook runs through the real app, real Redis, saq workers and the Slack emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.cards.common import ActionId
from bot.core.config import Approvers, FileConfig
from tests.conftest import StackFactory
from tests.fixtures.sample_playbook import counter
from tests.support.stack import CHANNEL, SeawallStack, click
from tests.support.waiting import wait_until
from tests.support.workers import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

SAMPLE = "tests.fixtures.sample_playbook"
CONFIG = FileConfig(playbook_modules=[SAMPLE])


@pytest.fixture
def engine(make_stack: StackFactory) -> SeawallStack:
    return make_stack(worker=True, file_config=CONFIG)


def answers(stack: SeawallStack, count: int = 1) -> list[str]:
    wait_until(lambda: len(stack.emulator.ephemerals) >= count, what=f"{count} answer(s)")
    return [e.text for e in stack.emulator.ephemerals]


def run_card(stack: SeawallStack):
    return wait_until(
        lambda: next(
            (m for m in stack.messages() if m.blocks and "Playbook" in m.blocks[0]["text"]["text"]),
            None,
        ),
        what="the run card",
    )


def header(stack: SeawallStack, ts: str) -> str:
    return stack.emulator.message(CHANNEL, ts).blocks[0]["text"]["text"]


def count(stack: SeawallStack, run_id: str, step: str, event: str) -> int:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return int(client.get(counter(run_id, step, event)) or 0)
    finally:
        client.close()


def run_id_of(stack: SeawallStack, ts: str) -> str:
    text = json.dumps(stack.emulator.message(CHANNEL, ts).blocks)
    return text.split("Run `", 1)[1].split("`", 1)[0]


def test_playbook_list_shows_playbooks_from_configured_modules(engine: SeawallStack) -> None:
    engine.sender.slash_command("/playbook", "list")
    [text] = answers(engine)
    assert "`sample`" in text
    assert "`sample-idempotent`" in text


def test_playbook_help_explains_parameters_and_steps(engine: SeawallStack) -> None:
    engine.sender.slash_command("/playbook", "sample --help")
    [text] = answers(engine)
    assert "/playbook sample <target>" in text
    assert "`pause`" in text
    assert "2. Change &lt;target&gt; (takes &lt;pause&gt;s)" in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ('"web-1; rm -rf /"', "`target`"),
        ("web-1 colour=red", "`colour` is not a parameter"),
        ("", "`target` is required"),
        ("web-1 pause=999", "`pause`"),
        ('"unbalanced', "could not read the arguments"),
    ],
)
def test_bad_arguments_start_nothing_and_say_why(
    engine: SeawallStack, args: str, expected: str
) -> None:
    engine.sender.slash_command("/playbook", f"sample {args}")
    [text] = answers(engine)
    assert text.startswith("Nothing was started")
    assert expected in text
    assert engine.messages() == []


def test_an_unknown_playbook_is_named_and_nothing_starts(engine: SeawallStack) -> None:
    engine.sender.slash_command("/playbook", "<!channel>")
    [text] = answers(engine)
    assert "&lt;!channel&gt;" in text
    assert engine.messages() == []


def test_a_run_goes_through_every_step_once_on_one_live_card(engine: SeawallStack) -> None:
    engine.sender.slash_command("/playbook", "sample web-1")
    card = run_card(engine)
    wait_until(lambda: "succeeded" in header(engine, card.ts), what="run succeeded")
    run_id = run_id_of(engine, card.ts)
    for step in ("check", "change", "verify"):
        assert count(engine, run_id, step, "started") == 1
        assert count(engine, run_id, step, "finished") == 1
    assert len(engine.messages()) == 1  # one card, updated in place
    engine.sender.slash_command("/playbook", f"status {run_id}")
    assert any("succeeded, 3/3 steps done" in t for t in answers(engine, 2))


def test_a_retried_command_starts_one_run(engine: SeawallStack) -> None:
    engine.sender.slash_command("/playbook", "sample web-1", trigger_id="1234.5678.retried")
    engine.sender.slash_command("/playbook", "sample web-1", trigger_id="1234.5678.retried")
    texts = answers(engine, 2)
    assert sum("Started" in t for t in texts) == 1
    assert any("already received" in t for t in texts)


def test_abort_stops_the_run_before_its_next_step(engine: SeawallStack) -> None:
    engine.sender.slash_command("/playbook", "sample web-1 pause=2")
    card = run_card(engine)
    run_id = run_id_of(engine, card.ts)
    wait_until(lambda: count(engine, run_id, "change", "started") == 1, what="slow step")
    click(engine, engine.emulator.message(CHANNEL, card.ts), ActionId.RUN_ABORT, "U0ALICE")
    wait_until(lambda: "aborted" in header(engine, card.ts), what="run aborted")
    wait_until(lambda: count(engine, run_id, "change", "finished") == 1, what="step finished")
    assert count(engine, run_id, "verify", "started") == 0


def test_a_four_eyes_step_waits_for_another_approver_then_runs(
    make_stack: StackFactory,
) -> None:
    config = FileConfig(playbook_modules=[SAMPLE], approvers=Approvers(users=["U0ALICE", "U0BOB"]))
    stack = make_stack(worker=True, file_config=config)
    stack.sender.slash_command("/playbook", "sample-guarded web-1", user_id="U0ALICE")
    card = run_card(stack)
    wait_until(lambda: "approval" in header(stack, card.ts), what="waiting for approval")
    run_id = run_id_of(stack, card.ts)
    request = wait_until(
        lambda: next((m for m in stack.messages() if m.ts != card.ts), None),
        what="the change-request card",
    )
    stack.sender.reaction_added("U0ALICE", "white_check_mark", CHANNEL, request.ts)  # own: no
    wait_until(lambda: stack.emulator.ephemerals, what="the refusal")
    assert count(stack, run_id, "change", "started") == 0
    stack.sender.reaction_added("U0BOB", "white_check_mark", CHANNEL, request.ts)
    wait_until(lambda: "succeeded" in header(stack, card.ts), what="run succeeded")
    assert count(stack, run_id, "change", "finished") == 1


# --- crash drills: two real worker processes, one SIGKILLed mid-step -----------------------


@pytest.fixture
def two_workers(
    make_stack: StackFactory, tmp_path: Path
) -> Iterator[tuple[SeawallStack, list[WorkerProcess]]]:
    stack = make_stack(worker=False, file_config=CONFIG)
    config = tmp_path / "seawall.yml"
    config.write_text(f"playbook_modules: [{SAMPLE}]\n")
    env = worker_env(stack.deps.settings, config)
    workers = [WorkerProcess(tmp_path, env, name) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    try:
        yield stack, workers
    finally:
        for worker in workers:
            worker.stop()


def start_slow_run_and_kill_its_worker(
    stack: SeawallStack, workers: list[WorkerProcess], playbook: str
) -> tuple[str, str, WorkerProcess]:
    # Long enough to be killed mid-step; short, because a re-run takes as long again.
    stack.sender.slash_command("/playbook", f"{playbook} web-1 pause=4")
    card = run_card(stack)
    run_id = run_id_of(stack, card.ts)
    wait_until(lambda: count(stack, run_id, "change", "started") == 1, timeout=20, what="step")
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    pid = int(client.get(counter(run_id, "change", "pid")))
    client.close()
    [victim] = [w for w in workers if w.pid == pid]
    victim.kill()
    return card.ts, run_id, victim


def test_a_killed_workers_idempotent_step_is_rerun_by_the_other_and_the_run_completes_once(
    two_workers: tuple[SeawallStack, list[WorkerProcess]],
) -> None:
    stack, workers = two_workers
    ts, run_id, victim = start_slow_run_and_kill_its_worker(stack, workers, "sample-idempotent")
    wait_until(
        lambda: "succeeded" in header(stack, ts), timeout=90, interval=0.5, what="run succeeded"
    )
    assert count(stack, run_id, "check", "started") == 1
    assert count(stack, run_id, "change", "started") == 2  # interrupted once, re-run once
    assert count(stack, run_id, "change", "finished") == 1
    assert count(stack, run_id, "verify", "started") == 1
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    assert int(client.get(counter(run_id, "verify", "pid"))) != victim.pid
    client.close()


def test_a_killed_workers_non_idempotent_step_waits_for_a_human_and_never_reruns_silently(
    two_workers: tuple[SeawallStack, list[WorkerProcess]],
) -> None:
    stack, workers = two_workers
    ts, run_id, _ = start_slow_run_and_kill_its_worker(stack, workers, "sample")
    wait_until(
        lambda: "interrupted" in header(stack, ts), timeout=60, interval=0.5, what="operator ask"
    )
    assert count(stack, run_id, "change", "started") == 1
    card = stack.emulator.message(CHANNEL, ts)
    click(stack, card, ActionId.RUN_SKIP, "U0BOB")  # not the operator, not an approver
    wait_until(
        lambda: any("Only <@U0ALICE>" in e.text for e in stack.emulator.ephemerals),
        what="the refusal",
    )
    click(stack, card, ActionId.RUN_SKIP, "U0ALICE")
    wait_until(lambda: "succeeded" in header(stack, ts), timeout=30, what="run succeeded")
    assert count(stack, run_id, "change", "started") == 1
    assert count(stack, run_id, "verify", "finished") == 1
