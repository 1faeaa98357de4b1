"""`/playbook slot-lag` and its watch end to end: a real Postgres 15 (wal_level=logical,
max_slot_wal_keep_size=64MB, wal_keep_size=0, checkpoints only on demand), real Redis, the
saq worker running the watch on its schedule, the step-back prompt with its typed confirm,
four-eyes on a production database, and the cards in the Slack emulator."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from datetime import timedelta
from typing import Any

import pytest

from bot.core.config import Approvers, FileConfig, StepBack
from bot.emulator import EmulatedMessage
from bot.incidents.flow import incident_for_channel
from bot.slots.intake import recent_samples
from handlers.worker import build_worker
from playbooks.catalog.slot_lag.preflight import preflight
from tests.conftest import StackFactory
from tests.support.ports import free_port
from tests.support.postgres import ADMIN, MONITOR, SlotLab
from tests.support.prompts import confirm_typed, typed_prompt
from tests.support.stack import CHANNEL, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

OPERATOR, APPROVER = "U0ALICE", "U0BOB"
ADMIN_ENV = "SLOTLAB_ADMIN_DSN"


def settings(lab: SlotLab, *, interval: str = "30s", production: bool = False) -> dict[str, Any]:
    return {
        "databases": {
            lab.db: {
                "dsn": lab.server.dsn(lab.db, MONITOR),
                "admin_dsn_env": ADMIN_ENV,
                "production": production,
            }
        },
        "watch": {"interval": interval, "warn_percent": 50, "critical_percent": 80},
    }


@pytest.fixture
def admin_env(slot_lab: SlotLab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin DSN where the worker reads it: its environment."""
    monkeypatch.setenv(ADMIN_ENV, slot_lab.server.dsn(slot_lab.db, ADMIN))


def start(
    make_stack: StackFactory, lab: SlotLab, *, approvers: list[str] | None = None, **kw: Any
) -> SeawallStack:
    config = FileConfig(
        step_back=StepBack(confirm_delay_seconds=1),
        approvers=Approvers(users=approvers or []),
        playbooks={"slot-lag": settings(lab, **kw)},
    )
    return make_stack(worker=True, file_config=config)


def text_of(message: EmulatedMessage) -> str:
    return json.dumps([message.blocks, [r.text for r in message.replies]], ensure_ascii=False)


def header(message: EmulatedMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def cards(stack: SeawallStack, starts: str, channel: str = CHANNEL) -> list[EmulatedMessage]:
    return [m for m in stack.messages(channel) if m.blocks and starts in header(m)]


def card_saying(
    stack: SeawallStack, starts: str, *words: str, channel: str = CHANNEL
) -> EmulatedMessage | None:
    found = cards(stack, starts, channel)
    return next((m for m in found if all(w in text_of(m) for w in words)), None)


def run_header(stack: SeawallStack, number: int = 1, channel: str = CHANNEL) -> str:
    """The header of the `number`th run card (1: the first), "" until it is posted."""
    runs = cards(stack, "Playbook slot-lag", channel)
    return header(runs[number - 1]) if len(runs) >= number else ""


def declare_incident(stack: SeawallStack) -> tuple[str, str]:
    """(incident id, its channel), declared as the operator would."""
    stack.sender.slash_command("/incident", "declare orders is filling up", user_id=OPERATOR)
    created = wait_until(
        lambda: [
            c for c in stack.emulator.calls_to("conversations.create") if c.response.get("ok")
        ],
        what="the incident channel",
    )
    channel = created[0].response["channel"]["id"]
    incident = wait_until(
        lambda: stack.server.run_coroutine(incident_for_channel(stack.deps, channel)),
        what="the incident",
    )
    return incident.incident_id, channel


def test_the_watch_warns_then_pages_before_the_cap_and_reports_the_slot_lost(
    make_stack: StackFactory, slot_lab: SlotLab
) -> None:
    slot_lab.slot("orders_cdc")
    stack = start(make_stack, slot_lab, interval="1s")  # the worker's own schedule checks
    second = build_worker(stack.deps, stack.deps.jobs.queue)  # type: ignore[attr-defined]
    stack.server.spawn(second.start())  # two workers: still one check per tick
    title = f"Slot orders_cdc on {slot_lab.db}"
    created = time.monotonic()

    slot_lab.fill_to("orders_cdc", 55)
    warned = wait_until(
        lambda: card_saying(stack, f"🟠 {title} · warning", "Recovery checklist"),
        timeout=15,
        what="the warning card",
    )
    assert re.search(r"\(5\d% of the 64 MB cap\)", text_of(warned))
    assert slot_lab.row("orders_cdc")[0] == "reserved"  # type: ignore[index]

    slot_lab.fill_to("orders_cdc", 85)
    wait_until(lambda: card_saying(stack, f"🔴 {title} · critical"), timeout=15, what="critical")
    assert slot_lab.row("orders_cdc")[0] == "reserved"  # type: ignore[index]  # paged before

    slot_lab.fill_to("orders_cdc", 130)  # past the cap; no checkpoint yet
    wait_until(
        lambda: card_saying(stack, title, "wal_status unreserved"), timeout=15, what="unreserved"
    )
    slot_lab.checkpoint()
    lost = wait_until(  # the card, and its thread's reply (posted just after the update)
        lambda: card_saying(stack, f"🔴 {title} · lost", "Re-snapshot", "🔴 Lost:"),
        timeout=15,
        what="lost",
    )
    invalidated_after = time.monotonic() - created
    assert slot_lab.row("orders_cdc")[0] == "lost"  # type: ignore[index]
    assert "drop=orders_cdc" in text_of(lost)
    assert len(cards(stack, title)) == 1  # one card, updated, never a second one
    replies = [r.text for r in lost.replies]
    assert replies[0].startswith("🟠 Warning: orders_cdc")
    assert replies[1].startswith("📖 *Recovery checklist")
    assert any(r.startswith("🔴 Critical now:") for r in replies)
    assert any(r.startswith("🔴 Lost:") for r in replies)

    samples = stack.server.run_coroutine(recent_samples(slot_lab.db, redis=stack.deps.redis))
    ticks = sorted(sample.at for sample in samples)
    assert len(ticks) >= 5
    assert min(b - a for a, b in itertools.pairwise(ticks)) > timedelta(seconds=0.5)
    stack.server.run_coroutine(second.stop())

    slot_lab.sql("SELECT pg_drop_replication_slot('orders_cdc')")
    wait_until(
        lambda: card_saying(stack, f"🟢 {title} · recovered", "no longer exists"),
        timeout=15,
        what="the card resolved once the slot is dropped",
    )
    print(f"slot created -> lost reported: {invalidated_after:.1f} s")


def test_a_look_blames_an_idle_in_transaction_session_and_terminate_ends_it(
    make_stack: StackFactory, slot_lab: SlotLab, admin_env: None
) -> None:
    slot_lab.slot("orders_cdc")
    pid = slot_lab.idle_in_transaction()
    slot_lab.wal(40)
    slot_lab.consume("orders_cdc")  # the consumer keeps up; restart_lsn stays held back
    stack = start(make_stack, slot_lab)
    incident_id, here = declare_incident(stack)  # both runs belong to this incident

    command = f"slot-lag {slot_lab.db}"
    stack.sender.slash_command("/playbook", command, user_id=OPERATOR, channel_id=here)
    report = wait_until(
        lambda: card_saying(stack, "Replication slots on", "idle in transaction", channel=here),
        timeout=30,
        what="the report card",
    )
    text = text_of(report)
    assert header(report).startswith("🟠 Replication slots on")
    assert f"but pid {pid} (idle in transaction, transaction open for" in text
    assert f"`/playbook slot-lag {slot_lab.db} terminate={pid}`" in text
    assert "`INSERT INTO t VALUES (1)`" in text  # the session's last statement, in code
    wait_until(lambda: "succeeded" in run_header(stack, 1, here), what="the look's run")
    assert stack.emulator.messages(stack.emulator.dm_channel(OPERATOR)) == []  # no gate

    terminate = f"{command} terminate={pid}"
    stack.sender.slash_command("/playbook", terminate, user_id=OPERATOR, channel_id=here)
    prompt = typed_prompt(stack, OPERATOR)
    assert f"Terminate session {pid} on {slot_lab.db}" in text_of(prompt)
    assert slot_lab.alive(pid)  # nothing happens before the confirm
    confirm_typed(stack, prompt, OPERATOR, str(pid))
    wait_until(
        lambda: "succeeded" in run_header(stack, 2, here), timeout=30, what="the terminate run"
    )
    assert not slot_lab.alive(pid)
    run = cards(stack, "Playbook slot-lag", here)[-1]
    assert f"Terminated pid {pid} (client backend, user app)" in text_of(run)
    assert f"confirmed by <@{OPERATOR}>" in text_of(run)
    timeline = [e.text for e in stack.server.run_coroutine(stack.deps.timeline.read(incident_id))]
    assert any(t.startswith("Step-back prompt shown to U0ALICE before step 2") for t in timeline)
    assert f"Step terminate succeeded. Terminated pid {pid}" in " ".join(timeline)


def test_drop_on_a_production_database_needs_an_approval_then_the_typed_name(
    make_stack: StackFactory, slot_lab: SlotLab, admin_env: None
) -> None:
    slot_lab.slot("orders_cdc")
    consumer = slot_lab.consumer("orders_cdc")
    wait_until(lambda: (slot_lab.row("orders_cdc") or ())[2], what="the consumer to attach")
    stack = start(make_stack, slot_lab, production=True, approvers=[APPROVER])

    stack.sender.slash_command(
        "/playbook", f"slot-lag {slot_lab.db} drop=orders_cdc", user_id=OPERATOR
    )
    [approval] = wait_until(
        lambda: [m for m in stack.messages(CHANNEL) if "Approval needed" in m.text],
        timeout=30,
        what="the approval card",
    )
    assert stack.emulator.messages(stack.emulator.dm_channel(OPERATOR)) == []  # not before
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, approval.ts)
    prompt = typed_prompt(stack, OPERATOR)
    assert "its consumer can no longer resume and must take a new snapshot" in text_of(prompt)
    assert slot_lab.row("orders_cdc") is not None
    confirm_typed(stack, prompt, OPERATOR, "orders_cdc")

    wait_until(lambda: "succeeded" in run_header(stack), timeout=30, what="the drop run")
    assert slot_lab.row("orders_cdc") is None
    assert consumer.wait(5) != 0  # its walsender was terminated first
    run = text_of(cards(stack, "Playbook slot-lag")[-1])
    assert "Dropped slot orders_cdc after terminating its walsender" in run
    assert "Slot orders_cdc is gone" in run
    after = wait_until(
        lambda: card_saying(stack, "Replication slots on", "after drop orders_cdc"),
        what="the report after the drop",
    )
    assert "production database (four-eyes to act)" in text_of(after)


def test_a_slot_that_is_not_there_is_refused_before_anyone_is_asked(
    make_stack: StackFactory, slot_lab: SlotLab, admin_env: None
) -> None:
    stack = start(make_stack, slot_lab)
    stack.sender.slash_command(
        "/playbook", f"slot-lag {slot_lab.db} drop=orders_cdc", user_id=OPERATOR
    )
    wait_until(lambda: "failed" in run_header(stack), timeout=20, what="the refusal")
    run = cards(stack, "Playbook slot-lag")[-1]
    assert f"There is no replication slot `orders_cdc` on {slot_lab.db}" in text_of(run)
    assert stack.emulator.messages(stack.emulator.dm_channel(OPERATOR)) == []


def test_seawall_check_names_what_it_cannot_read_and_what_is_missing_to_act(
    slot_lab: SlotLab,
) -> None:
    without_monitor = slot_lab.server.dsn(slot_lab.db, "app")  # a role without pg_monitor
    nowhere = f"host=127.0.0.1 port={free_port()} dbname=x user=u password=hunter2"
    config = FileConfig(
        playbooks={
            "slot-lag": {
                "databases": {
                    "orders": {"dsn": without_monitor, "admin_dsn_env": "ORDERS_ADMIN_DSN"},
                    "gone": {"dsn": nowhere},
                }
            }
        }
    )
    problems, warnings = asyncio.run(preflight(config, {}))
    assert len(problems) == 1
    assert problems[0].startswith("slot-lag cannot look at gone: Postgres gone did not answer")
    assert "hunter2" not in problems[0]
    assert any("orders's dsn lacks pg_monitor" in w for w in warnings)
    assert any("ORDERS_ADMIN_DSN is not set here" in w for w in warnings)
    bad = FileConfig(playbooks={"slot-lag": {"databases": {}, "watch": {"interval": "45s"}}})
    problems, _ = asyncio.run(preflight(bad, {}))
    assert problems[0].startswith("playbooks.slot-lag.databases:")
    assert problems[1].startswith("playbooks.slot-lag.watch.interval:")
