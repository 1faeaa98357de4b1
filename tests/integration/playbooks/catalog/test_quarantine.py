"""`/incident quarantine <target>` end to end: real HAProxy, real Redis, the saq worker, the
step-back prompt in the operator's DM with its typed confirm, and the live run card."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cards.common import ActionId
from bot.cards.prompt import TYPED_ACTION, TYPED_BLOCK, TYPED_CONFIRM_CALLBACK
from bot.core.config import FileConfig, StepBack
from bot.emulator import EmulatedMessage
from bot.incidents.flow import incident_for_channel
from tests.conftest import StackFactory
from tests.support.fake_kubernetes_api import FakeKubernetesApi
from tests.support.haproxy import HAProxyServer
from tests.support.stack import CHANNEL, SeawallStack, button_value
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

OPERATOR = "U0ALICE"


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[HAProxyServer]:
    with HAProxyServer(tmp_path, ["web-1", "web-2", "web-3", "spare-1"]) as server:
        server.admin("set server be/spare-1 state maint")  # spares wait in maintenance
        yield server


@pytest.fixture
def stack(make_stack: StackFactory, haproxy: HAProxyServer) -> SeawallStack:
    config = FileConfig(
        step_back=StepBack(confirm_delay_seconds=1),
        playbooks={
            "quarantine": {
                "haproxy_socket": str(haproxy.socket_path),
                "backend": "be",
                "spares": ["spare-1"],
                "drain_seconds": 0,
                "debug_hint": "ssh {target}.internal",
            }
        },
    )
    return make_stack(worker=True, file_config=config)


def state(haproxy: HAProxyServer, server: str) -> str:
    for row in haproxy.admin("show servers state be").splitlines():
        cols = row.split()
        if len(cols) > 6 and cols[3] == server:
            return "MAINT" if int(cols[6]) & 0x01 else "UP"
    raise AssertionError(f"{server} not in HAProxy")


def run_header(stack: SeawallStack) -> str:
    cards = [m for m in stack.messages() if "Playbook quarantine" in json.dumps(m.blocks)]
    return cards[0].blocks[0]["text"]["text"] if cards else ""


def prompt_card(stack: SeawallStack) -> EmulatedMessage:
    dm = stack.emulator.dm_channel(OPERATOR)
    found: EmulatedMessage = wait_until(
        lambda: next(
            (
                m
                for m in stack.emulator.messages(dm)
                if button_value(m, ActionId.PROMPT_CONFIRM_TYPED)
            ),
            None,
        ),
        timeout=15,
        what="the Confirm button after the pause",
    )
    return found


def confirm_typed(stack: SeawallStack, prompt: EmulatedMessage, name: str) -> None:
    """Press the high-risk Confirm and type the target's name in the modal, as Slack would."""
    stack.sender.block_action(
        action_id=ActionId.PROMPT_CONFIRM_TYPED,
        value=button_value(prompt, ActionId.PROMPT_CONFIRM_TYPED),
        user_id=OPERATOR,
        channel_id=prompt.channel,
        message_ts=prompt.ts,
    )
    [view] = wait_until(lambda: stack.emulator.views, what="the type-the-name modal")
    values = {TYPED_BLOCK: {TYPED_ACTION: {"type": "plain_text_input", "value": name}}}
    response = stack.sender.view_submission(
        TYPED_CONFIRM_CALLBACK, values, OPERATOR, view["private_metadata"]
    )
    assert response.status_code == 200


def test_quarantine_keeps_the_server_alive_out_of_rotation_after_a_typed_confirm(
    stack: SeawallStack, haproxy: HAProxyServer
) -> None:
    stack.sender.slash_command("/incident", "quarantine web-3", user_id=OPERATOR)
    wait_until(lambda: "confirm" in run_header(stack), timeout=20, what="the run waits")
    assert state(haproxy, "spare-1") == "MAINT"  # nothing changes before the confirm:
    assert state(haproxy, "web-3") == "UP"  # not even bringing the spare in

    prompt = prompt_card(stack)
    text = json.dumps(prompt.blocks, ensure_ascii=False)
    assert "web-3" in text
    confirm_typed(stack, prompt, "web-3")

    wait_until(lambda: "succeeded" in run_header(stack), timeout=30, what="the run succeeded")
    assert state(haproxy, "web-3") == "MAINT"
    assert state(haproxy, "spare-1") == "UP"  # capacity came in with the confirmed step
    card = next(m for m in stack.messages() if "Playbook quarantine" in json.dumps(m.blocks))
    assert "ssh web-3.internal" in json.dumps(card.blocks)
    assert f"confirmed by <@{OPERATOR}>" in json.dumps(card.blocks)


def test_the_prompt_says_what_the_step_does_and_how_to_undo_it_with_the_configured_names(
    stack: SeawallStack,
) -> None:
    stack.sender.slash_command("/incident", "quarantine web-3", user_id=OPERATOR)
    prompt = prompt_card(stack)
    assert prompt.blocks[0]["text"]["text"] == (
        "⚠️ Step back before: Bring a spare in, then take web-3 out of rotation: drain, "
        "then maintenance"
    )
    text = json.dumps(prompt.blocks, ensure_ascii=False)
    assert "set server be/web-3 state ready" in text
    assert "put it back: set server be/spare-1 state maint" in text
    assert "&lt;backend&gt;" not in text


def test_a_target_that_could_reach_a_shell_is_refused_before_anything_starts(
    stack: SeawallStack, haproxy: HAProxyServer
) -> None:
    stack.sender.slash_command("/incident", 'quarantine "web-1; rm -rf /"', user_id=OPERATOR)
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the refusal")
    assert answer.text.startswith("Nothing was started")
    assert stack.messages(CHANNEL) == []
    assert state(haproxy, "web-1") == "UP"


def test_quarantine_inside_an_incident_shows_on_its_card_and_timeline(
    stack: SeawallStack, haproxy: HAProxyServer
) -> None:
    stack.sender.slash_command("/incident", "declare web-3 is flapping", user_id=OPERATOR)
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
    stack.sender.slash_command(
        "/incident", "quarantine web-3", user_id=OPERATOR, channel_id=channel
    )
    entries = wait_until(
        lambda: [
            e
            for e in stack.server.run_coroutine(stack.deps.timeline.read(incident.incident_id))
            if "Playbook quarantine started" in e.text
        ],
        what="the run in the timeline",
    )
    run_id = entries[0].ref
    card_id = f"incident-{incident.incident_id}"

    def incident_card_text() -> str:
        where = stack.server.run_coroutine(stack.deps.store.card_message(card_id))
        message = stack.emulator.message(*where) if where else None
        return json.dumps(message.blocks) if message else ""

    wait_until(lambda: run_id in incident_card_text(), what="the run on the incident card")
    assert "Playbook runs" in incident_card_text()


def replies(stack: SeawallStack) -> str:
    return " ".join(r.text for m in stack.messages() for r in m.replies)


def test_the_last_server_up_is_never_quarantined_whoever_asks(
    stack: SeawallStack, haproxy: HAProxyServer
) -> None:
    haproxy.admin("set server be/web-1 state maint")
    haproxy.admin("set server be/web-2 state maint")
    stack.deps.config.playbooks["quarantine"]["spares"] = []  # no spare to bring in
    stack.sender.slash_command("/incident", "quarantine web-3", user_id=OPERATOR)
    wait_until(lambda: "failed" in run_header(stack), timeout=20, what="the refusal")
    wait_until(
        lambda: (
            "web-3 is the last server up in backend be; bring a spare in first" in replies(stack)
        ),
        what="the reason in the thread",
    )
    assert stack.emulator.messages(stack.emulator.dm_channel(OPERATOR)) == []  # no prompt
    assert state(haproxy, "web-3") == "UP"


def test_the_last_server_rule_binds_when_the_step_runs_not_when_it_was_asked(
    stack: SeawallStack, haproxy: HAProxyServer
) -> None:
    stack.deps.config.playbooks["quarantine"]["spares"] = []
    haproxy.admin("set server be/web-1 state maint")
    stack.sender.slash_command("/incident", "quarantine web-3", user_id=OPERATOR)
    prompt = prompt_card(stack)  # web-2 still serves: the check passed
    haproxy.admin("set server be/web-2 state maint")  # ...then it left while the prompt waited
    confirm_typed(stack, prompt, "web-3")
    wait_until(lambda: "failed" in run_header(stack), timeout=30, what="the swap refused")
    wait_until(
        lambda: "web-3 is the last server up in backend be" in replies(stack),
        what="the reason in the thread",
    )
    assert state(haproxy, "web-3") == "UP"


def test_on_kubernetes_the_pod_leaves_its_selector_stays_up_and_the_card_ends_with_kubectl_exec(
    make_stack: StackFactory,
) -> None:
    pod = "api-7d9f8-x2k4q"
    with FakeKubernetesApi() as api:
        api.add_pod("prod", pod, {"app": "api"}, node="node-2")
        api.add_pod("prod", "api-7d9f8-b7c1m", {"app": "api"})
        section = {"provider": "kubernetes", "namespace": "prod", "api_url": api.url}
        config = FileConfig(
            step_back=StepBack(confirm_delay_seconds=1), playbooks={"quarantine": section}
        )
        stack = make_stack(worker=True, file_config=config)
        stack.sender.slash_command("/incident", f"quarantine {pod}", user_id=OPERATOR)
        prompt = prompt_card(stack)
        assert api.patches() == []  # nothing changes before the typed confirm
        assert "Relabel pod api-7d9f8-x2k4q out of its ReplicaSet" in json.dumps(prompt.blocks)
        confirm_typed(stack, prompt, pod)
        wait_until(lambda: "succeeded" in run_header(stack), timeout=30, what="the run succeeded")

        labels = api.pod("prod", pod)["metadata"]["labels"]
        assert labels == {"app": "api-quarantined", "quarantine": "true"}
        assert ("prod", pod) in api.pods  # still there, for kubectl exec
        [patch] = api.patches()
        assert patch.content_type == "application/merge-patch+json"
        card = next(m for m in stack.messages() if "Playbook quarantine" in json.dumps(m.blocks))
        steps = next(b for b in card.blocks if "Relabel pod" in json.dumps(b))["text"]["text"]
        assert steps.rstrip().endswith(f"Debug it: `kubectl -n prod exec -it {pod} -- sh`")
