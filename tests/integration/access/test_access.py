"""Who may do what, through the real app, a real HAProxy and real `seawall worker`
processes: refused in the web process for the answer, and again in the worker before
anything changes (issue 12, point 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from bot.cards.common import ActionId
from bot.cards.incident import (
    DECLARE_CALLBACK,
    SEVERITY_ACTION,
    SEVERITY_BLOCK,
    TITLE_ACTION,
    TITLE_BLOCK,
)
from bot.core.config import FileConfig
from bot.emulator import EmulatedUser
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.haproxy import HAProxyServer
from tests.support.stack import CHANNEL, USERS, SeawallStack, click
from tests.support.waiting import wait_until
from tests.support.workers import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

ALICE, BOB, MALLORY = "U0ALICE", "U0BOB", "U0MALLORY"
ONCALL_GROUP = "S0ONCALL"
INCIDENTS = "C0INCIDENTS"
ACCESS: dict[str, Any] = {
    "roles": {"responders": {"users": [ALICE], "usergroups": [ONCALL_GROUP]}},
    "allow": {
        "alert.silence": ["responders"],
        "playbook.quarantine": ["responders"],
        "incident.declare": ["everyone"],
    },
}

WITH_GROUP = emulator_config(usergroups={ONCALL_GROUP: [BOB]})


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[HAProxyServer]:
    with HAProxyServer(tmp_path, ["web-1", "web-2", "web-3"]) as server:
        yield server


def config(haproxy: HAProxyServer, access: dict[str, Any] | None = ACCESS) -> dict[str, Any]:
    found: dict[str, Any] = {
        "step_back": {"confirm_delay_seconds": 0},
        "playbooks": {
            "quarantine": {
                "haproxy_socket": str(haproxy.socket_path),
                "backend": "be",
                "drain_seconds": 0,
            }
        },
    }
    if access is not None:
        found["access"] = access
    return found


def up(haproxy: HAProxyServer) -> list[str]:
    serving = []
    for row in haproxy.admin("show servers state be").splitlines():
        cols = row.split()
        if len(cols) > 6 and cols[0].isdigit() and not int(cols[6]) & 0x01:
            serving.append(cols[3])
    return serving


def ephemeral_to(stack: SeawallStack, user: str) -> str:
    found = wait_until(
        lambda: [e.text for e in stack.emulator.ephemerals if e.user == user],
        what=f"an ephemeral to {user}",
    )
    return found[-1]


def saq_jobs(stack: SeawallStack, function: str) -> int:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return len(list(client.scan_iter(f"saq:job:seawall:{function}:*")))
    finally:
        client.close()


def run_cards(stack: SeawallStack, channel: str = CHANNEL) -> list[str]:
    return [
        json.dumps(m.blocks) for m in stack.messages(channel) if "Playbook" in json.dumps(m.blocks)
    ]


def test_an_outsider_cannot_quarantine_and_is_told_the_role_and_who_holds_it(
    make_stack: StackFactory, haproxy: HAProxyServer
) -> None:
    stack = make_stack(emulator=WITH_GROUP, file_config=FileConfig.model_validate(config(haproxy)))
    for target in ("web-1", "web-2", "web-3"):
        stack.sender.slash_command("/incident", f"quarantine {target}", user_id=MALLORY)
    answers = wait_until(
        lambda: len(stack.emulator.ephemerals) >= 3 and stack.emulator.ephemerals,
        what="three refusals",
    )
    assert all("*responders*" in a.text and f"<@{ALICE}>" in a.text for a in answers)
    assert all(f"<!subteam^{ONCALL_GROUP}>" in a.text for a in answers)
    assert all("nothing was done" in a.text for a in answers)
    assert saq_jobs(stack, "advance_run") == 0
    assert run_cards(stack) == []
    assert up(haproxy) == ["web-1", "web-2", "web-3"]


def test_a_member_of_a_role_usergroup_may_run_the_playbook(
    make_stack: StackFactory, haproxy: HAProxyServer
) -> None:
    stack = make_stack(emulator=WITH_GROUP, file_config=FileConfig.model_validate(config(haproxy)))
    stack.sender.slash_command("/incident", "quarantine web-3", user_id=BOB)
    wait_until(lambda: run_cards(stack), what="the run card")
    assert "Started *quarantine*" in ephemeral_to(stack, BOB)


def test_a_refused_button_is_answered_once_and_never_queued(make_stack: StackFactory) -> None:
    access = FileConfig.model_validate({"access": ACCESS})
    stack = make_stack(emulator=WITH_GROUP, file_config=access)
    stack.post_alertmanager(group_payload("TargetDown"))
    [card] = wait_until(lambda: stack.messages(), what="the alert card")
    click(stack, card, ActionId.SILENCE_1H, user_id=MALLORY)
    text = ephemeral_to(stack, MALLORY)
    assert "*responders*" in text
    assert "silence alerts" in text
    assert saq_jobs(stack, "card_button") == 0
    assert len([e for e in stack.emulator.ephemerals if e.user == MALLORY]) == 1


def test_commands_that_change_things_are_only_taken_in_the_allowed_channels(
    make_stack: StackFactory,
) -> None:
    access = {**ACCESS, "channels": [INCIDENTS]}
    stack = make_stack(
        emulator=WITH_GROUP, file_config=FileConfig.model_validate({"access": access})
    )
    stack.sender.slash_command("/incident", "declare DB down", user_id=ALICE)
    assert f"<#{INCIDENTS}>" in ephemeral_to(stack, ALICE)
    assert stack.emulator.calls_to("conversations.create") == []
    stack.sender.slash_command("/incident", "status", user_id=ALICE)  # reads: anywhere
    wait_until(
        lambda: any("No open incidents" in e.text for e in stack.emulator.ephemerals),
        what="the status answer",
    )


def test_the_worker_checks_again_before_anything_changes(
    make_stack: StackFactory, haproxy: HAProxyServer, tmp_path: Path
) -> None:
    # The web process lets everyone start the run (no access section); the workers carry
    # the access section: the run must stop in the worker, before the step-back prompt.
    stack = make_stack(
        emulator=WITH_GROUP,
        worker=False,
        file_config=FileConfig.model_validate(config(haproxy, None)),
    )
    worker_config = tmp_path / "worker.yml"
    worker_config.write_text(yaml.safe_dump(config(haproxy)))
    worker = WorkerProcess(tmp_path, worker_env(stack.deps.settings, worker_config), "w")
    worker.start()
    try:
        stack.sender.slash_command("/incident", "quarantine web-3", user_id=MALLORY)
        wait_until(
            lambda: any(
                "may no longer run quarantine" in r.text
                for m in stack.messages()
                for r in m.replies
            ),
            timeout=30,
            what="the run stopped by the worker, saying why",
        )
    finally:
        worker.stop()
    assert any("aborted" in c for c in run_cards(stack))
    assert stack.emulator.messages(stack.emulator.dm_channel(MALLORY)) == []  # no prompt
    assert up(haproxy) == ["web-1", "web-2", "web-3"]


RESPONDERS_DECLARE = {**ACCESS, "allow": {**ACCESS["allow"], "incident.declare": ["responders"]}}
# Mallory in the workspace (not in a role), so Seawall can answer her beside the card.
WITH_MALLORY = emulator_config(
    usergroups={ONCALL_GROUP: [BOB]},
    users={
        **{uid: EmulatedUser(name=name, tz=tz) for uid, (name, tz) in USERS.items()},
        MALLORY: EmulatedUser(name="mallory"),
    },
)


def test_someone_who_may_not_declare_gets_no_form_from_a_cards_declare_button(
    make_stack: StackFactory,
) -> None:
    access = FileConfig.model_validate({"access": RESPONDERS_DECLARE})
    stack = make_stack(emulator=WITH_GROUP, file_config=access)
    stack.post_alertmanager(group_payload("TargetDown"))
    [card] = wait_until(lambda: stack.messages(), what="the alert card")
    click(stack, card, ActionId.DECLARE_INCIDENT, user_id=MALLORY)
    assert "*responders*" in ephemeral_to(stack, MALLORY)
    assert stack.emulator.views == []
    assert stack.emulator.calls_to("conversations.create") == []


def test_a_declare_form_submitted_without_the_role_declares_nothing(
    make_stack: StackFactory,
) -> None:
    access = FileConfig.model_validate({"access": RESPONDERS_DECLARE})
    stack = make_stack(emulator=WITH_MALLORY, file_config=access)
    stack.post_alertmanager(group_payload("TargetDown"))
    [card] = wait_until(lambda: stack.messages(), what="the alert card")
    card_id = stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts))
    values = {
        TITLE_BLOCK: {TITLE_ACTION: {"type": "plain_text_input", "value": "Everything down"}},
        SEVERITY_BLOCK: {
            SEVERITY_ACTION: {"type": "static_select", "selected_option": {"value": "sev1"}}
        },
    }
    # A submission nobody opened a form for: as forged, or from a role lost meanwhile.
    response = stack.sender.view_submission(DECLARE_CALLBACK, values, MALLORY, str(card_id))
    assert response.status_code == 200
    assert "*responders*" in ephemeral_to(stack, MALLORY)
    assert stack.emulator.calls_to("conversations.create") == []
